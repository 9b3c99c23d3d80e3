/**
 * @module policy/restrictions
 * Partner connector lock-down (Exchange Online 550 5.7.51 "TenantInboundAttribution; There is a
 * partner connector configured that matched the message's recipient domain…"): an enabled Partner
 * connector with restrictDomainsToIPAddresses or restrictDomainsToCertificate claims its senderDomains;
 * mail from those senders that is neither authenticated nor attributed to a connector did not come
 * from the connector's IPs / with its verified certificate (else it would have matched) and is
 * refused. '*' claims every sender, the null sender included (the documented "reject mail not routed
 * through MX" pattern, reference §3.3). Checked at RCPT TO, as community transcripts report.
 * Touches: nothing (pure).
 */
import { reject, type Check } from './context.ts';
import { domainMatchesAny, senderDomainOf } from './domains.ts';
import type { CompiledConnector } from './types.ts';

/** True for a Partner connector that locks its sender domains to its IPs or certificate. */
function isRestricting(c: CompiledConnector): boolean {
  return c.connectorType === 'Partner' && (c.restrictDomainsToIPAddresses || c.restrictDomainsToCertificate);
}

/** Anonymous mail from a sender a restricting Partner connector claims → 'partner-restricted'. */
export const checkPartnerRestrictions: Check = (ctx) => {
  const kind = ctx.attribution.kind;
  if (kind === 'authenticated' || kind === 'connector') return undefined;
  const sender = senderDomainOf(ctx.input) ?? '';
  const hit = ctx.snap.connectors.find((c) => isRestricting(c) && domainMatchesAny(c.senderDomains, sender));
  return hit ? reject('partner-restricted', 'connector:restricted', { connector: hit.name, domain: sender }) : undefined;
};
