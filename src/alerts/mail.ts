/**
 * @module alerts/mail
 * An alert as a mail message (RFC 5322, plain text UTF-8), queued through the gateway itself like
 * a bounce. `Auto-Submitted: auto-generated` (RFC 3834) so no responder answers it; every value
 * from outside (IPs, senders, file names in the summary) is folded to one line without control
 * characters before it goes into a header.
 * Touches: nothing.
 */
import { randomBytes } from 'node:crypto';
import type { AlertRow } from './store.ts';

/** One header-safe line: no CR, LF or other control characters, at most `max` characters. */
function headerText(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const one = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const ascii = /^[\x20-\x7e]*$/.test(one) ? one.slice(0, max) : undefined;
  // Non-ASCII: an RFC 2047 encoded word (base64) instead of raw 8-bit in a header.
  return ascii ?? `=?UTF-8?B?${Buffer.from(one.slice(0, 60), 'utf8').toString('base64')}?=`;
}

export function alertMessage(a: AlertRow, from: string, to: readonly string[], hostname: string, now: number): Buffer {
  const detail = JSON.stringify(a.detail, null, 2)
    .split('\n')
    .map((l) => l.slice(0, 900));
  const body = [
    a.summary.replace(/[\r\n]+/g, ' '),
    '',
    `Alert ${a.id} (${a.kind}), first seen ${new Date(a.firstAt).toISOString()}, seen ${a.count} time(s).`,
    `Acknowledge it with: mailgate alert ack ${a.id}`,
    '',
    ...detail,
    '',
  ];
  const head = [
    `From: mailgate alerts <${from}>`,
    `To: ${to.join(', ')}`,
    `Subject: [mailgate alert] ${headerText(a.kind)}: ${headerText(a.summary)}`,
    `Date: ${new Date(now).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <alert-${a.id}-${randomBytes(6).toString('hex')}@${hostname}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  return Buffer.from([...head, '', ...body].join('\r\n'), 'utf8');
}
