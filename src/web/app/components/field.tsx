/**
 * @module web/app/components/field
 * Form fields with a visible label, an optional hint and an inline error tied to the control by
 * `aria-describedby` and `aria-invalid` (so a screen reader reads why a value was refused).
 * `Field` wraps any control through a render function; TextField and SelectField are the common
 * ones.
 * Touches: nothing.
 */
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

export interface ControlProps {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby': string | undefined;
}

export interface FieldProps {
  label: string;
  hint?: string;
  error?: string | undefined;
  children: (control: ControlProps) => ComponentChildren;
}

export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {hint && (
        <small id={`${id}-hint`} class="muted">
          {hint}
        </small>
      )}
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': described })}
      {error && (
        <small id={`${id}-error`} class="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

export interface TextFieldProps {
  label: string;
  value: string;
  onInput: (v: string) => void;
  hint?: string;
  error?: string | undefined;
  type?: 'text' | 'password' | 'email' | 'number' | 'search';
  name?: string;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
}

export function TextField({ label, value, onInput, hint, error, type = 'text', name, required, autoComplete, placeholder }: TextFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(p) => (
        <input
          {...p}
          // preact 11 types <input> as a union keyed by `type`; a union-typed variable cannot pick one
          type={type as 'text'}
          name={name}
          value={value}
          required={required}
          autoComplete={autoComplete}
          placeholder={placeholder}
          onInput={(e) => onInput((e.currentTarget as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

export interface SelectFieldProps {
  label: string;
  value: string;
  options: readonly { value: string; label: string }[];
  onChange: (v: string) => void;
  hint?: string;
  error?: string | undefined;
  name?: string;
}

export function SelectField({ label, value, options, onChange, hint, error, name }: SelectFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(p) => (
        <select {...p} name={name} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
          {options.map((o) => (
            <option value={o.value} key={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
