/**
 * @module policy/relay
 * Relay control at RCPT TO: a recipient outside the accepted domains is a relay attempt (Exchange
 * Online 550 5.7.64 "TenantAttribution; Relay Access Denied"), and so is a recipient carrying routing
 * syntax — a source route "@a,@b:u@c", the "%" hack or a "!" path — that a next hop might act on.
 * Only SMTP AUTH and an OnPremises connector may relay (Exchange: OnPremises connectors have the
 * "special right" to relay to the internet); a Partner connector may not. An OnPremises connector
 * matched by IP relays only for MAIL FROM domains that are accepted domains; one matched by
 * certificate relays for any sender (reference/exchange-online.md §3.2; else Exchange's
 * `550 5.7.64 … ATTR36`, policy/attribute decides, this check answers). This holds for every
 * sender, the null sender included. Also the per-message recipient limit (452 4.5.3).
 * Touches: nothing (pure). RFCs: 5321 §3.6.1 (relaying), §4.1.1.3, §4.5.3.1.8 (recipients buffer),
 * RFC 2505 §2.6 (anti-relay, % and ! paths), RFC 3463 (4.5.3).
 */
import { parseAddress } from '../core/address.ts';
import { reject, tempfail, type Check, type CheckContext } from './context.ts';
import { isAccepted, senderDomainOf } from './domains.ts';

/** True when the recipient (if known) has routing syntax or a domain that is not accepted. */
export function isRelayAttempt(rcpt: string | undefined, snap: CheckContext['snap']): boolean {
  if (rcpt === undefined) return false;
  const a = parseAddress(rcpt);
  return a.routing || !isAccepted(a.domain, snap);
}

/**
 * May mail through this connector match go to a non-accepted domain: OnPremises only, and when
 * matched by IP only with an accepted MAIL FROM domain (the null sender has none).
 */
export function connectorMayRelay(match: NonNullable<CheckContext['match']>, input: CheckContext['input'], snap: CheckContext['snap']): boolean {
  if (match.connector.connectorType !== 'OnPremises') return false;
  if (match.matchedBy === 'certificate') return true;
  const sender = senderDomainOf(input);
  return sender !== undefined && sender !== '' && isAccepted(sender, snap);
}

/** Authenticated users and OnPremises connectors may relay. */
function mayRelay(ctx: CheckContext): boolean {
  const a = ctx.attribution;
  return a.kind === 'authenticated' || (a.kind === 'connector' && a.connectorType === 'OnPremises');
}

/** Routing syntax first, then a non-accepted recipient domain. */
export const checkRelay: Check = (ctx, notes) => {
  const rcpt = ctx.input.rcpt ?? '';
  const a = parseAddress(rcpt);
  if (mayRelay(ctx)) {
    notes.push(ctx.attribution.kind === 'authenticated' ? 'relay:authenticated' : 'relay:on-premises-connector');
    return undefined;
  }
  if (a.routing) return reject('relay-routing-denied', 'relay:routing-syntax', { rcpt });
  if (!isAccepted(a.domain, ctx.snap)) {
    const m = ctx.match;
    if (m && m.connector.connectorType === 'OnPremises' && m.matchedBy === 'ip') {
      return reject('relay-sender-not-accepted', 'relay:on-premises-ip-sender-not-accepted', { domain: senderDomainOf(ctx.input) ?? '' });
    }
    return reject('relay-denied', 'relay:not-accepted', { domain: a.domain });
  }
  notes.push('relay:accepted-domain');
  return undefined;
};

/** Refuse (temporarily) a recipient beyond the listener's maxRecipients. */
export const checkRecipientLimit: Check = (ctx) => {
  const count = ctx.input.acceptedRcptCount ?? 0;
  const max = ctx.listener.maxRecipients;
  return count >= max ? tempfail('too-many-recipients', 'limit:recipients', { max: String(max) }) : undefined;
};
