/**
 * @module policy/access
 * Who may talk to a listener at all (connect stage; re-checked at MAIL in case the config changed
 * mid-session): a scoped receive connector (remoteIPRanges) admits only its ranges, and the IP block
 * list refuses its entries. Block is checked whatever the allow list says: an IP on both is blocked.
 * IPv4-mapped IPv6 client addresses (::ffff:a.b.c.d) match IPv4 entries (core/cidr).
 * Touches: nothing (pure). RFCs: 5321 §3.1 (554 greeting refusal).
 */
import { reject, type Check } from './context.ts';

/** Client IP outside the listener's remoteIPRanges → 'client-not-permitted'. */
export const checkRemoteRanges: Check = (ctx) => {
  const ranges = ctx.listener.remoteIPRanges;
  if (ranges === undefined || ranges.contains(ctx.input.clientIp)) return undefined;
  return reject('client-not-permitted', 'access:remote-ip-ranges', { ip: ctx.input.clientIp });
};

/** Client IP on the block list → 'client-blocked'. */
export const checkBlockedIp: Check = (ctx) => {
  const hit = ctx.snap.block.ips.match(ctx.input.clientIp);
  return hit ? reject('client-blocked', 'block:ip', { ip: ctx.input.clientIp, entry: hit.entry }) : undefined;
};

/** The connect-stage access check: scoped listener first, then the block list. */
export const checkAccess: Check = (ctx, notes) => checkRemoteRanges(ctx, notes) ?? checkBlockedIp(ctx, notes);
