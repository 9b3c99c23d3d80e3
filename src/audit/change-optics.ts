/**
 * @module audit/change-optics
 * The EAC Change Optics detail grid export (preview since 2026-04; reference §5.5): columns
 * `Message ID, Sender, Recipient, Subject, Time Stamp, Tag, Details`, one row per sample message.
 * Tag `DRS` is Microsoft's own verdict that the message was Direct Send: mapped as inbound, no
 * connector, P1 = Sender. Tag `OMC` is mail from an onmicrosoft.com address sent outside the
 * organization: mapped as outbound. The grid holds samples over 7 days, not every message, and no
 * client IP column: an IP address found in Details is kept, else the client IP is empty.
 * Dedupe key: Message ID + Recipient.
 * Touches: nothing (pure).
 */
import { isIP } from 'node:net';
import { first, keyOf, type RowMapper } from './map-rows.ts';
import { address, type Direction } from './model.ts';
import { parseExoTime } from './time.ts';

/** The first IPv4 or IPv6 address written in free text, or ''. */
export function ipInText(text: string): string {
  for (const token of text.split(/[\s,;()[\]"'=<>]+/)) {
    if (isIP(token)) return token;
    const t = token.replace(/[.:]$/, '');
    if (isIP(t)) return t;
  }
  return '';
}

function directionOfTag(tag: string): Direction | undefined {
  const t = tag.trim().toUpperCase();
  if (t === 'DRS') return 'inbound';
  if (t === 'OMC') return 'outbound';
  return undefined;
}

export const mapChangeOptics: RowMapper = (get) => {
  const ts = first(get, 'timestamp');
  const at = ts === '' ? undefined : parseExoTime(ts);
  if (at === undefined) return ts === '' ? 'no Time Stamp' : `unreadable Time Stamp "${ts}"`;
  const id = first(get, 'messageid');
  if (id === '') return 'no Message ID';
  const recipient = address(get('recipient'));
  if (!recipient) return 'no Recipient';
  const direction = directionOfTag(get('tag'));
  if (!direction) return `Tag "${get('tag')}" is neither DRS (Direct Send) nor OMC (onmicrosoft.com sent outside)`;
  const subject = get('subject');
  return [
    {
      key: keyOf(id, recipient),
      networkMessageId: id,
      receivedAt: at,
      direction,
      clientIp: ipInText(get('details')),
      mailFrom: address(get('sender')),
      recipient,
      subject: subject === '' ? undefined : subject,
      messageId: id,
      status: 'Received',
    },
  ];
};
