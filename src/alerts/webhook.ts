/**
 * @module alerts/webhook
 * Posts an alert as JSON to a webhook, signed as GitHub and Stripe sign theirs:
 * `X-Mailgate-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the secret>`
 * (RFC 2104), so the receiver can tell the post came from this gateway and was not altered.
 * A failure (connection error, timeout, non-2xx) is retried with doubling backoff, a bounded
 * number of times. `mailgate alert test-webhook` sends a test alert through the same function.
 * Touches: outbound HTTP(S) to the configured URLs.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Mailgate-Signature';

/** The signature header's value for `body`. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export interface WebhookOptions {
  /** Tries in all (default 4). */
  tries?: number;
  /** Wait before the second try, doubled before each further one (default 1000 ms). */
  backoffMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

export interface WebhookResult {
  ok: boolean;
  tries: number;
  /** The last status or error. */
  last: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** POST `payload` to `url`; resolves (never rejects) once delivered or out of tries. */
export async function postWebhook(url: string, secret: string, payload: unknown, opts: WebhookOptions = {}): Promise<WebhookResult> {
  const body = JSON.stringify(payload);
  const signature = signBody(body, secret);
  const tries = opts.tries ?? 4;
  let wait = opts.backoffMs ?? 1000;
  let last = '';
  for (let i = 1; i <= tries; i++) {
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'mailgate-alerts', [SIGNATURE_HEADER]: signature },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        redirect: 'error',
      });
      await r.arrayBuffer().catch(() => undefined);
      last = `HTTP ${r.status}`;
      if (r.ok) return { ok: true, tries: i, last };
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (i < tries) {
      await sleep(wait);
      wait *= 2;
    }
  }
  return { ok: false, tries, last };
}
