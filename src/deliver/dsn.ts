/**
 * @module deliver/dsn
 * Builds the bounce for recipients that failed: a multipart/report; report-type=delivery-status
 * message with a plain-words explanation, a machine-readable message/delivery-status part and the
 * original headers as text/rfc822-headers (Postfix's bounce(8) layout), and never more than the
 * headers: the quoted part stops at the first line that is not a header field, so a message
 * without a header/body separator cannot have its text reflected to a forged sender
 * (backscatter). Pure: the time comes in
 * the info and the boundary and Message-ID are derived from a hash of the inputs, so the same
 * info gives the same bytes and different bounces get different boundaries.
 * Touches: nothing (pure).
 * RFCs: 3464 (delivery status notifications), 6522 (multipart/report), 3834 (Auto-Submitted),
 * 3463 (status codes), 5322 (message format, CRLF, Date), 2046 (multipart boundaries).
 */
import { createHash } from 'node:crypto';
import type { BounceBuilder, BounceInfo, RecipientOutcome } from '../queue/contract.ts';

const CRLF = '\r\n';

/** RFC 5322 date-time in UTC. */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** One header-safe line (no CR/LF, collapsed whitespace). */
function line(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Normalise any line ending to CRLF and end with one. */
function crlf(text: string): string {
  const body = text.replace(/\r?\n|\r/g, CRLF);
  return body.endsWith(CRLF) ? body : body + CRLF;
}

/** RFC 5322 §2.2 field name (printable US-ASCII except ':'), then optional WSP and ':'. */
const FIELD = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/**
 * The header fields at the start of `text` (folded lines included), up to the first line that is
 * neither a field nor a continuation of one: what the original's header section really was.
 */
export function headerFieldsOnly(text: string): string {
  const out: string[] = [];
  for (const l of text.split(/\r?\n|\r/)) {
    if (FIELD.test(l) || (out.length > 0 && /^[ \t]/.test(l) && l.trim() !== '')) out.push(l);
    else break;
  }
  return out.length ? out.join(CRLF) + CRLF : '';
}

/** A failed recipient's Status: always class 5 (Action: failed), from its enhanced code if any. */
export function dsnStatus(o: RecipientOutcome): string {
  const m = /^[245]\.(\d{1,3}\.\d{1,3})$/.exec(o.enhanced ?? '');
  return m ? `5.${m[1]}` : '5.0.0';
}

/** The Remote-MTA host of an outcome delivered over SMTP ("smtp:host:port"). */
function remoteMta(o: RecipientOutcome): string | undefined {
  const m = /^smtp:(.+):\d+$/.exec(o.nextHop ?? '');
  return m?.[1];
}

/** The per-recipient fields block (RFC 3464 §2.3). */
function recipientFields(o: RecipientOutcome): string {
  const fields = [`Final-Recipient: rfc822; ${line(o.rcpt)}`, 'Action: failed', `Status: ${dsnStatus(o)}`];
  const mta = remoteMta(o);
  if (mta) fields.push(`Remote-MTA: dns; ${mta}`);
  if (o.code !== undefined) fields.push(`Diagnostic-Code: smtp; ${line(o.reply)}`);
  else fields.push(`Diagnostic-Code: X-mailgate; ${line(o.reply)}`);
  return fields.join(CRLF) + CRLF;
}

/** The message/delivery-status body: per-message fields, then one block per recipient. */
function deliveryStatus(info: BounceInfo): string {
  const perMessage = [`Reporting-MTA: dns; ${info.reportingMta}`, `X-Mailgate-Queue-ID: ${info.meta.id}`, `Arrival-Date: ${rfc5322Date(info.meta.receivedAt)}`];
  return [perMessage.join(CRLF) + CRLF, ...info.failed.map(recipientFields)].join(CRLF);
}

/** The human-readable part. */
function explanation(info: BounceInfo): string {
  const lines = [
    `This is the mail system at host ${info.reportingMta}.`,
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients. It is attached below.',
    '',
    'The message was received on ' + rfc5322Date(info.meta.receivedAt) + ` (queue id ${info.meta.id}).`,
    '',
  ];
  for (const o of info.failed) {
    const where = remoteMta(o) ? ` (the server ${remoteMta(o)} said)` : '';
    lines.push(`<${line(o.rcpt)}>: ${dsnStatus(o)}${where}: ${line(o.reply)}`);
  }
  return lines.join(CRLF) + CRLF;
}

/** Content-Transfer-Encoding for a text: 7bit when ASCII, 8bit otherwise. */
function cte(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? '8bit' : '7bit';
}

/** One MIME body part. */
function part(boundary: string, contentType: string, body: string): string {
  return `--${boundary}${CRLF}Content-Type: ${contentType}${CRLF}Content-Transfer-Encoding: ${cte(body)}${CRLF}${CRLF}${body}`;
}

/** A boundary and Message-ID seed unique to these inputs (a hash, so the builder stays pure). */
function seed(info: BounceInfo, parts: string[]): string {
  const h = createHash('sha256').update(info.meta.id).update(String(info.now));
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 24);
}

/** Build the bounce (RFC 3464 / RFC 6522), raw bytes with CRLF line endings. */
export const buildBounce: BounceBuilder = (info) => {
  const text = explanation(info);
  const status = deliveryStatus(info);
  const headers = crlf(headerFieldsOnly(info.originalHeaders));
  const id = seed(info, [text, status, headers]);
  const boundary = `=_mailgate-report-${id}`;
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${info.reportingMta}>`,
    `To: <${line(info.meta.envelope.mailFrom)}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${rfc5322Date(info.now)}`,
    `Message-ID: <${info.meta.id}.${id.slice(0, 12)}.dsn@${info.reportingMta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;${CRLF}\tboundary="${boundary}"`,
  ].join(CRLF);
  const body = [
    part(boundary, 'text/plain; charset=utf-8', text),
    part(boundary, 'message/delivery-status', status),
    part(boundary, 'text/rfc822-headers; charset=utf-8', headers),
  ].join(CRLF);
  return Buffer.from(`${head}${CRLF}${CRLF}This is a MIME-encapsulated message.${CRLF}${CRLF}${body}${CRLF}--${boundary}--${CRLF}`, 'utf8');
};
