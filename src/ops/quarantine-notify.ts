/**
 * @module ops/quarantine-notify
 * Quarantine notifications (Exchange's end-user quarantine notifications): each recipient of
 * quarantined mail in an accepted domain is told once per message (never of an admin's hold),
 * immediately or in a daily digest (`quarantine.notify`), by a message the gateway queues like a bounce (null sender,
 * Auto-Submitted), listing sender and subject — escaped for HTML and bounded for text — with a
 * signed "request release" link per message (none for malware-class ones). A recipient is marked
 * told before its notice is queued: a crash in between loses one notice, never sends two.
 * Touches: the quarantine tables and the queue (through the acceptor it is given), the token key.
 * RFCs: RFC 5322, RFC 2045/2046 (multipart/alternative, base64), RFC 3834 (Auto-Submitted).
 */
import { randomBytes } from 'node:crypto';
import type { Acceptor } from '../queue/index.ts';
import { ReleaseRequests } from '../queue/release-requests.ts';
import type { OpsContext } from './context.ts';
import { listQuarantine, type QuarantineItem } from './quarantine.ts';
import { publicBase, requestLink } from './quarantine-requests.ts';

/** Messages listed in one notice at most (the rest are in the next). */
const MAX_LISTED = 100;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
/** One line of plain text: control characters out, bounded. */
const line = (s: string, max = 200): string => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').slice(0, max);

interface Listed {
  item: QuarantineItem;
  link: string | undefined;
}

/** The notice for `rcpt` (raw RFC 5322 bytes, CRLF). */
export function buildNotice(from: string, rcpt: string, listed: readonly Listed[], now: number): Buffer {
  const text = [
    `${listed.length} message(s) sent to you are held in quarantine.`,
    '',
    ...listed.flatMap(({ item, link }) => [
      `From: ${line(item.headerFrom || item.mailFrom)}`,
      `Subject: ${line(item.subject)}`,
      `Why: ${line(item.reason.text)}`,
      link ? `Request release: ${link}` : 'This message cannot be requested (malware); ask your administrator.',
      '',
    ]),
  ].join('\r\n');
  const rows = listed
    .map(
      ({ item, link }) =>
        `<tr><td>${escapeHtml(item.headerFrom || item.mailFrom)}</td><td>${escapeHtml(item.subject)}</td><td>${escapeHtml(item.reason.text)}</td><td>${
          link ? `<a href="${escapeHtml(link)}">Request release</a>` : 'cannot be requested'
        }</td></tr>`,
    )
    .join('\r\n');
  const html = `<!doctype html><html><body><p>${listed.length} message(s) sent to you are held in quarantine.</p><table><tr><th>From</th><th>Subject</th><th>Why</th><th></th></tr>\r\n${rows}\r\n</table></body></html>`;
  const boundary = `mg-${randomBytes(12).toString('hex')}`;
  const b64 = (s: string): string => (Buffer.from(s, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  return Buffer.from(
    [
      `From: ${from}`,
      `To: ${rcpt}`,
      `Subject: You have ${listed.length} quarantined message(s)`,
      `Date: ${new Date(now).toUTCString()}`,
      `Message-ID: <${boundary}@${from.slice(from.lastIndexOf('@') + 1)}>`,
      'Auto-Submitted: auto-generated',
      'MIME-Version: 1.0',
      `Content-Type: multipart/alternative; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64(text),
      `--${boundary}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64(html),
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

/**
 * Tell every recipient of quarantined mail not told yet (one notice per recipient listing all of
 * theirs); returns how many notices were queued. Off when `quarantine.notify` is off.
 */
export async function notifyQuarantine(ctx: OpsContext, acceptor: Acceptor, now: number = Date.now()): Promise<number> {
  const config = (await ctx.store.current())?.config;
  if (!config || config.quarantine.notify === 'off') return 0;
  const requests = new ReleaseRequests(ctx.db);
  const byRcpt = new Map<string, QuarantineItem[]>();
  // Only our own users are told (never an outside recipient), and never of an admin's hold.
  const ours = new Set(config.acceptedDomains.map((d) => d.domainName.toLowerCase()));
  for (const item of await listQuarantine(ctx, { limit: 10_000 })) {
    if (item.reason.kind === 'admin') continue;
    for (const rcpt of item.recipients) {
      if (!ours.has(rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase()) || requests.notified(item.id, rcpt)) continue;
      const list = byRcpt.get(rcpt) ?? [];
      if (list.length < MAX_LISTED) list.push(item);
      byRcpt.set(rcpt, list);
    }
  }
  const from = config.quarantine.notifyFrom || `quarantine@${config.organization.name}`;
  const base = publicBase(config);
  let sent = 0;
  for (const [rcpt, items] of byRcpt) {
    const fresh = new Set(requests.markNotified(items.map((i) => ({ queueId: i.id, rcpt })), now).map((p) => p.queueId));
    const listed = items.filter((i) => fresh.has(i.id)).map((item) => ({ item, link: item.reason.kind === 'malware' ? undefined : requestLink(ctx, base, item.id, rcpt, now) }));
    if (listed.length === 0) continue;
    await acceptor.acceptBytes(buildNotice(from, rcpt, listed, now), { receivedAt: now, envelope: { mailFrom: '', rcptTo: [rcpt] }, prependHeaders: '', facts: { quarantineNotice: true } }, 'deliver', {
      id: '',
      connectionId: 'local',
      receivedAt: now,
      clientIp: '127.0.0.1',
      listener: 'quarantine-notice',
      mailFrom: '',
      headerFrom: from,
      recipients: [rcpt],
      subject: `You have ${listed.length} quarantined message(s)`,
      status: 'Pending',
      source: 'gateway',
    });
    sent++;
  }
  return sent;
}
