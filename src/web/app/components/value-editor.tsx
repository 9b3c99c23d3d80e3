/**
 * @module web/app/components/value-editor
 * A form for one configuration section, built from the value itself (the shape GET /api/v1/config
 * returns): text, number and yes/no fields, a select for the model's enumerations, a textarea
 * (one entry per line) for a list of plain values, and a fieldset per item of a list of objects
 * (add from a template, remove). Every field knows its path in the configuration
 * (`lists.block.ips`, `routes[0].port`), so a validation error the API returns with that path
 * (api/problem `errors`) is shown beside the field; an error on `ips[2]` of a list shows as
 * "line 3: …". Labels are the model's own names (Exchange's, e.g. senderIPAddresses).
 * Touches: nothing.
 */
import { useId } from 'preact/hooks';
import { Field } from './field.tsx';
import './wc.css';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface FieldError {
  path: string;
  reason: string;
}

/** The model's enumerations, by setting name (config/schema.ts). */
const ENUMS: Record<string, readonly string[]> = {
  connectorType: ['Partner', 'OnPremises'],
  domainType: ['Authoritative', 'InternalRelay'],
  role: ['mx', 'relay', 'submission'],
  mode: ['starttls', 'implicit', 'none'],
  type: ['pickup', 'smtp', 'mx'],
};

export interface EditorProps {
  value: Json;
  /** Path of this value in the configuration ("routes", "routes[0]", "lists.block"). */
  path: string;
  label: string;
  errors: readonly FieldError[];
  onChange: (v: Json) => void;
  /** New items of a list of objects, by the list's path without indexes ("routes"). */
  templates?: Record<string, Json>;
}

const isObject = (v: Json): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
const child = (path: string, key: string | number): string => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);
const shape = (path: string): string => path.replace(/\[\d+\]/g, '');

/** The errors of exactly this field, and of its entries for a list of plain values. */
function errorText(errors: readonly FieldError[], path: string, lines: boolean): string | undefined {
  const own = errors.filter((e) => e.path === path).map((e) => e.reason);
  if (lines) {
    const re = new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\[(\\d+)\\]$`);
    for (const e of errors) {
      const m = re.exec(e.path);
      if (m) own.push(`line ${Number(m[1]) + 1}: ${e.reason}`);
    }
  }
  return own.length ? own.join('; ') : undefined;
}

function PlainList({ value, path, label, errors, onChange }: EditorProps & { value: Json[] }) {
  const numeric = value.length > 0 && value.every((x) => typeof x === 'number');
  return (
    <Field label={label} hint="one per line" error={errorText(errors, path, true)}>
      {(p) => (
        <textarea
          {...p}
          value={value.map(String).join('\n')}
          onInput={(e) => {
            const lines = (e.currentTarget as HTMLTextAreaElement).value.split('\n').map((s) => s.trim()).filter(Boolean);
            onChange(numeric ? lines.map((s) => (Number.isFinite(Number(s)) ? Number(s) : s)) : lines);
          }}
        />
      )}
    </Field>
  );
}

/** A yes/no setting: the box before its label, on one line. */
function Check({ label, value, error, onChange }: { label: string; value: boolean; error: string | undefined; onChange: (v: Json) => void }) {
  const id = useId();
  return (
    <div class={error ? 'field check invalid' : 'field check'}>
      <input id={id} type="checkbox" checked={value} aria-invalid={Boolean(error)} aria-describedby={error ? `${id}-error` : undefined} onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)} />
      <label for={id}>{label}</label>
      {error && (
        <small id={`${id}-error`} class="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

function Scalar({ value, path, label, errors, onChange }: EditorProps) {
  const error = errorText(errors, path, false);
  const key = path.slice(path.lastIndexOf('.') + 1);
  if (typeof value === 'boolean') return <Check label={label} value={value} error={error} onChange={onChange} />;
  const options = ENUMS[key];
  if (options && typeof value === 'string') {
    return (
      <Field label={label} error={error}>
        {(p) => (
          <select {...p} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
            {(options.includes(value) ? options : [value, ...options]).map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  }
  return (
    <Field label={label} error={error}>
      {(p) => (
        <input
          {...p}
          type="text"
          inputMode={typeof value === 'number' ? 'numeric' : undefined}
          value={value === null ? '' : String(value)}
          onInput={(e) => {
            const s = (e.currentTarget as HTMLInputElement).value;
            // A number that does not parse is sent as typed: the API names what is wrong with it.
            onChange(typeof value === 'number' && s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);
          }}
        />
      )}
    </Field>
  );
}

/** The editor of any value of the configuration (module header). */
export function ValueEditor(props: EditorProps) {
  const { value, path, label, errors, onChange, templates } = props;
  if (Array.isArray(value)) {
    const objects = value.some(isObject) || (value.length === 0 && templates?.[shape(path)] !== undefined);
    if (!objects) return <PlainList {...props} value={value} />;
    const template = templates?.[shape(path)];
    const listError = errorText(errors, path, false);
    return (
      <fieldset>
        <legend>{label}</legend>
        {listError && <p class="field-error">{listError}</p>}
        {value.length === 0 && <p class="muted">None.</p>}
        {value.map((item, i) => {
          const name = isObject(item) && typeof item.name === 'string' && item.name ? item.name : isObject(item) && typeof item.domainName === 'string' ? item.domainName : '';
          const itemLabel = `${label} ${i + 1}${name ? `: ${name}` : ''}`;
          return (
            <fieldset key={i}>
              <legend>{itemLabel}</legend>
              <ValueEditor value={item} path={child(path, i)} label={itemLabel} errors={errors} templates={templates} onChange={(v) => onChange(value.map((x, j) => (j === i ? v : x)))} />
              <button type="button" onClick={() => onChange(value.filter((_, j) => j !== i))}>
                Remove {itemLabel}
              </button>
            </fieldset>
          );
        })}
        {template !== undefined && (
          <button type="button" onClick={() => onChange([...value, structuredClone(template)])}>
            Add to {label}
          </button>
        )}
      </fieldset>
    );
  }
  if (isObject(value)) {
    const body = Object.entries(value).map(([k, v]) => (
      <ValueEditor key={k} value={v} path={child(path, k)} label={k} errors={errors} templates={templates} onChange={(nv) => onChange({ ...value, [k]: nv })} />
    ));
    // The top of a section and a list item already have their legend.
    if (path === '' || /\]$/.test(path) || !path.includes('.')) return <div class="fields">{body}</div>;
    return (
      <fieldset>
        <legend>{label}</legend>
        <div class="fields">{body}</div>
      </fieldset>
    );
  }
  return <Scalar {...props} />;
}
