/**
 * @module policy/header-from
 * The shape of the header From (P2) of anonymous mail, checked at end of DATA before Direct Send
 * and DMARC: more than one From field, more than one address in it, or group syntax
 * (`From: team: ceo@contoso.com;`) is refused. DMARC evaluates one From domain; a second field or
 * address lets a spoof of an own domain ride behind an outside one that passes (or has no) DMARC,
 * while the mail client shows the spoofed address. RFC 5322 §3.6 allows exactly one From field;
 * RFC 7489 §6.6.1 lets a receiver reject messages with multiple From addresses; group syntax in
 * From (RFC 6854) names no usable author mailbox.
 * DECISION: authenticated submission and connector mail are not checked here (a trusted path; an
 * author list with a Sender field is legal RFC 5322 there, and DMARC does not apply to them).
 * Touches: nothing (pure). RFCs: 5322 §3.4, §3.6; 7489 §6.6.1; 6854.
 */
import { reject, type Check } from './context.ts';

/** EOD stage: refuse a duplicate, multi-address or group From in anonymous mail. */
export const checkHeaderFromShape: Check = (ctx) => {
  const a = ctx.attribution;
  if (a.kind === 'authenticated' || a.kind === 'connector') return undefined;
  const { headerFromFields, headerFromAddresses, headerFromGroup } = ctx.input;
  if ((headerFromFields ?? 0) > 1) return reject('from-header-duplicate', 'header-from:duplicate', { count: String(headerFromFields) });
  if (headerFromGroup) return reject('from-header-group', 'header-from:group');
  if ((headerFromAddresses?.length ?? 0) > 1) return reject('from-header-multiple', 'header-from:multiple-addresses', { count: String(headerFromAddresses?.length) });
  return undefined;
};
