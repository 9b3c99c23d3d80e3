/**
 * @module deliver/smtp-outcome
 * Turns what nodemailer reports for one SMTP transaction into one RecipientOutcome per recipient:
 * 2xx delivered, 4xx deferred, 5xx failed; errors without a reply (refused, reset, timeout, TLS)
 * deferred. Per-recipient RCPT rejections come from `info.rejectedErrors` (some accepted) or
 * `err.rejectedErrors` (all rejected); MAIL FROM, DATA and end-of-data replies apply to every recipient.
 * Session-level failures (before MAIL FROM) are flagged `hopFailed` so an MX walk tries the next host.
 * Touches: nothing (pure).
 * RFCs: 5321 §4.2 (reply codes), 3463 (enhanced status codes), 2034 (enhanced codes in replies), 3207.
 */
import type { RecipientOutcome, RecipientStatus } from '../queue/contract.ts';

/** The result of one transaction with one host. */
export interface HopResult {
  outcomes: RecipientOutcome[];
  /** True when the session failed before any recipient was tried: the next MX may do better. */
  hopFailed: boolean;
}

/** The fields of a nodemailer error or rejection we read (nodemailer attaches them at run time). */
export interface SmtpErrorLike {
  message: string;
  code?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  recipient?: string;
  rejectedErrors?: SmtpErrorLike[];
}

const SESSION_COMMANDS = new Set(['CONN', 'EHLO', 'HELO', 'LHLO', 'STARTTLS', 'AUTH']);

/** Read a field of an unknown object. */
function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

/** View an unknown thrown value as a nodemailer error. */
export function asSmtpError(err: unknown): SmtpErrorLike {
  const str = (k: string): string | undefined => (typeof field(err, k) === 'string' ? (field(err, k) as string) : undefined);
  const code = field(err, 'responseCode');
  const nested = field(err, 'rejectedErrors');
  return {
    message: err instanceof Error ? err.message : String(err),
    code: str('code'),
    command: str('command'),
    response: str('response'),
    responseCode: typeof code === 'number' ? code : undefined,
    recipient: str('recipient'),
    rejectedErrors: Array.isArray(nested) ? nested.map(asSmtpError) : undefined,
  };
}

/** One line: SMTP multi-line replies joined, CR/LF removed. */
export function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The enhanced status code of a reply ("550 5.1.1 no such user" → "5.1.1"), if it has one. */
export function parseEnhanced(reply: string): string | undefined {
  const m = /^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?=\s|$)/.exec(reply.trim());
  return m?.[1];
}

/** The reply code at the start of a reply, if any. */
function parseCode(reply: string): number | undefined {
  const m = /^([2-5]\d\d)(?=[ -]|$)/.exec(reply.trim());
  return m ? Number(m[1]) : undefined;
}

/** Status for a reply code: 2xx delivered, 5xx failed, anything else deferred. */
export function statusForCode(code: number | undefined): RecipientStatus {
  if (code === undefined) return 'deferred';
  if (code >= 200 && code < 300) return 'delivered';
  return code >= 500 ? 'failed' : 'deferred';
}

/** Outcome for one recipient from an SMTP reply. */
function fromReply(rcpt: string, reply: string, nextHop: string, fallbackCode?: number): RecipientOutcome {
  const text = oneLine(reply);
  const code = parseCode(text) ?? fallbackCode;
  return { rcpt, status: statusForCode(code), code, enhanced: parseEnhanced(text), reply: text, nextHop };
}

/** Lower-case key for matching the addresses nodemailer reports back to ours. */
function key(addr: string): string {
  return addr.trim().toLowerCase();
}

/** Map RCPT rejections by recipient. */
function rejectionsByRcpt(errors: readonly SmtpErrorLike[] | undefined): Map<string, SmtpErrorLike> {
  const map = new Map<string, SmtpErrorLike>();
  for (const e of errors ?? []) if (e.recipient) map.set(key(e.recipient), e);
  return map;
}

/** Outcomes after sendMail resolved: accepted ones delivered, the rest from their RCPT replies. */
export function outcomesFromInfo(recipients: readonly string[], info: unknown, nextHop: string): HopResult {
  const response = typeof field(info, 'response') === 'string' ? (field(info, 'response') as string) : '250 OK';
  const acceptedRaw = field(info, 'accepted');
  const accepted = new Set((Array.isArray(acceptedRaw) ? acceptedRaw : []).map((a) => key(String(a))));
  const rejErrors = field(info, 'rejectedErrors');
  const rejected = rejectionsByRcpt(Array.isArray(rejErrors) ? rejErrors.map(asSmtpError) : undefined);
  const outcomes = recipients.map((rcpt): RecipientOutcome => {
    const rej = rejected.get(key(rcpt));
    if (rej) return fromReply(rcpt, rej.response ?? rej.message, nextHop, rej.responseCode);
    if (accepted.has(key(rcpt))) return fromReply(rcpt, response, nextHop, 250);
    return { rcpt, status: 'deferred', enhanced: '4.3.0', reply: 'recipient was not sent by the SMTP client', nextHop };
  });
  return { outcomes, hopFailed: false };
}

/** Local outcome for a session that failed without a usable reply (refused, timeout, TLS). */
function sessionFailure(e: SmtpErrorLike): { enhanced: string; reply: string } {
  const detail = oneLine(e.message);
  if (e.code === 'ETLS' || e.command === 'STARTTLS') {
    // With tls=required nodemailer sends STARTTLS even when it is not offered; a refusal is 4.7.4
    // (security feature not supported), a failed handshake 4.7.5 (cryptographic failure).
    return { enhanced: e.response ? '4.7.4' : '4.7.5', reply: `TLS negotiation failed (STARTTLS required or refused): ${detail}` };
  }
  if (e.code === 'ETIMEDOUT') return { enhanced: '4.4.1', reply: `timeout: ${detail}` };
  if (e.code === 'EDNS') return { enhanced: '4.4.3', reply: `host lookup failed: ${detail}` };
  return { enhanced: e.command === 'CONN' && !e.response ? '4.4.1' : '4.4.2', reply: `connection failed: ${detail}` };
}

/** Outcomes after sendMail rejected. */
export function outcomesFromError(recipients: readonly string[], err: unknown, nextHop: string): HopResult {
  const e = asSmtpError(err);
  if (e.rejectedErrors && e.rejectedErrors.length > 0) {
    const rejected = rejectionsByRcpt(e.rejectedErrors);
    const outcomes = recipients.map((rcpt) => {
      const rej = rejected.get(key(rcpt));
      return rej ? fromReply(rcpt, rej.response ?? rej.message, nextHop, rej.responseCode) : fromReply(rcpt, e.response ?? e.message, nextHop, e.responseCode ?? 451);
    });
    return { outcomes, hopFailed: false };
  }
  if (e.code === 'EENVELOPE' && e.command === 'API') {
    // nodemailer refused the envelope itself (an address it cannot send): retrying will not help.
    const reply = `address rejected by the SMTP client: ${oneLine(e.message)}`;
    return { outcomes: recipients.map((rcpt) => ({ rcpt, status: 'failed', enhanced: '5.1.3', reply, nextHop })), hopFailed: false };
  }
  if (e.code === 'EAUTH') {
    // Our credentials or token were refused (or no token came): retry later, as for a session failure.
    const reply = `authentication to the next hop failed: ${oneLine(e.response ?? e.message)}`;
    return { outcomes: recipients.map((rcpt) => ({ rcpt, status: 'deferred', enhanced: '4.7.0', reply, nextHop })), hopFailed: true };
  }
  const sessionLevel = e.command === undefined || SESSION_COMMANDS.has(e.command) || e.code === 'ETLS';
  if (sessionLevel || e.responseCode === undefined) {
    const { enhanced, reply } = sessionFailure(e);
    // No `code`: a session-level reply (a 5xx greeting, a refused STARTTLS) is about the
    // connection, not these recipients; it stays in the reply text and the attempt is retried.
    return { outcomes: recipients.map((rcpt) => ({ rcpt, status: 'deferred', enhanced, reply, nextHop })), hopFailed: true };
  }
  return { outcomes: recipients.map((rcpt) => fromReply(rcpt, e.response ?? e.message, nextHop, e.responseCode)), hopFailed: false };
}
