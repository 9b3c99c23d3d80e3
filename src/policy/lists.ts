/**
 * @module policy/lists
 * Block and allow lists at MAIL FROM. The IP block list is re-checked here (the list may have changed
 * since connect), then the sender-domain block list ('d' exact, '*.d' the domain and its subdomains;
 * the null sender has no domain and is never domain-blocked).
 *
 * DECISION: the allow list (IP or sender domain) exempts ONLY from a listener's defaultDeny. It does
 * not grant relay and does not exempt from RejectDirectSend or Partner restrictions — use an inbound
 * connector for that, as Exchange Online does (its only exemption from 5.7.68 is a connector). It
 * never overrides the block list.
 * Touches: nothing (pure). RFCs: 5321 §4.1.1.2 (MAIL), §3.6.2.
 */
import { matchDomainPattern } from '../core/address.ts';
import { checkBlockedIp } from './access.ts';
import { reject, type Check, type CheckContext } from './context.ts';
import { senderDomainOf } from './domains.ts';

/** The first pattern of `patterns` that `domain` matches ('' never matches). */
function firstMatch(patterns: readonly string[], domain: string | undefined): string | undefined {
  if (!domain) return undefined;
  return patterns.find((p) => matchDomainPattern(domain, p) >= 0);
}

/** Sender domain on the block list → 'sender-blocked'. */
export const checkBlockedSender: Check = (ctx) => {
  const domain = senderDomainOf(ctx.input);
  const entry = firstMatch(ctx.snap.block.senderDomains, domain);
  return entry && domain ? reject('sender-blocked', 'block:sender-domain', { domain, entry }) : undefined;
};

/** The MAIL-stage list checks: IP block (re-check), then sender-domain block. */
export const checkLists: Check = (ctx, notes) => checkBlockedIp(ctx, notes) ?? checkBlockedSender(ctx, notes);

/** Why the facts are allow-listed ('allow:ip', 'allow:sender-domain'), or undefined. */
export function allowListReason(ctx: Pick<CheckContext, 'input' | 'snap'>): string | undefined {
  if (ctx.snap.allow.ips.contains(ctx.input.clientIp)) return 'allow:ip';
  if (firstMatch(ctx.snap.allow.senderDomains, senderDomainOf(ctx.input))) return 'allow:sender-domain';
  return undefined;
}
