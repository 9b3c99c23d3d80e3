/**
 * @module web/app/components/status
 * Loading, error and notice messages in one look: errors are `role="alert"` (read out at once by
 * screen readers), notices `role="status"`. Text only: messages from the API are never HTML.
 * Touches: nothing.
 */
import type { ComponentChildren } from 'preact';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function ErrorMessage({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}
