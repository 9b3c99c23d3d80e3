/**
 * @module web/app/components/confirm
 * A confirmation dialog on the native `<dialog>` element opened with showModal(): the browser
 * traps focus inside it, Escape cancels, and focus returns to the button that opened it. The
 * confirm button says what it does ("Release 3 messages"), never just "OK"; the cancel button has
 * focus first, so Enter on a stray keypress does not act.
 * Touches: the DOM (the dialog element).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

export interface ConfirmProps {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  /** A destructive or enforcing action: the confirm button is styled as a warning. */
  danger?: boolean;
  /** While the action runs: buttons disabled. */
  busy?: boolean;
  /** An error from the action, shown inside the dialog. */
  error?: string | undefined;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ open, title, children, confirmLabel, danger, busy, error, onConfirm, onCancel }: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      cancelRef.current?.focus();
    } else if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={`${id}-title`}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <div class="dialog-body">{children}</div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" ref={cancelRef} onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="button" class={danger ? 'danger' : 'primary'} onClick={onConfirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
