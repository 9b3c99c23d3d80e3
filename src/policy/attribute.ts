/**
 * @module policy/attribute
 * Attribution: which trusted path (if any) a message came by — Exchange Online's "Office 365 Message
 * Attribution" reduced to one organization. Order: SMTP AUTH → inbound connector (certificate first,
 * then IP) → relay denial → Direct Send → anonymous external.
 *
 * Connector matching (Exchange order, reference/exchange-online.md §3.2–3.3):
 * - Certificate first. A certificate counts only when `cert.verified` (chain checked against the
 *   listener's client CAs): anyone can mint a self-signed CN=printer.contoso.com. The connector's
 *   tlsSenderCertificateName "contoso.com" matches the CN or a SAN exactly; "*.contoso.com" matches
 *   contoso.com and every subdomain. The most precise match wins; ties go to config order.
 * - Then IP: the longest prefix across connectors wins; ties go to config order.
 * - A Partner connector also needs the MAIL FROM domain in its senderDomains; before MAIL FROM, or
 *   for the null sender, only a Partner connector with '*' qualifies. OnPremises ignores senderDomains.
 * - DECISION: a connector with restrictDomainsToCertificate is matched by IP only if the certificate
 *   also matches, and one with restrictDomainsToIPAddresses by certificate only if the IP also
 *   matches: its restriction is a condition of using it at all (PS-NIC "usable only if").
 *
 * Relay: a recipient outside the accepted domains, or with routing syntax, is a relay attempt; only
 * SMTP AUTH and an OnPremises connector may relay, the latter when matched by certificate or, by
 * IP, with an accepted MAIL FROM domain (§3.2 "Originating"). A Partner connector does NOT grant
 * relay. A connector that may not carry the recipient leaves the facts anonymous (relay-denied).
 *
 * DECISION (open question 3): the null sender "<>" has no domain, so it is never Direct Send by the
 * envelope — bounces from remote MTAs must still arrive. A spoofed own-domain header From on a
 * bounce is covered by the header-From option (organization.rejectDirectSendHeaderFrom, eod stage).
 *
 * Touches: nothing (pure). RFCs: 5321 §4.1.2, 5280 §4.2.1.6 (subjectAltName dNSName).
 */
import { matchDomainPattern, normalizeDomain } from '../core/address.ts';
import { domainMatchesAny, headerFromDomainsOf, isAccepted, senderDomainOf } from './domains.ts';
import { connectorMayRelay, isRelayAttempt } from './relay.ts';
import type { Attribution, CertFacts, CompiledConnector, PolicyInput, PolicySnapshot, Stage } from './types.ts';

/** The connector the facts matched, and how. */
export interface ConnectorMatch {
  connector: CompiledConnector;
  matchedBy: 'certificate' | 'ip';
}

/** Normalise a certificate DNS name; keeps a leading "*." label. '' when unusable. */
function certName(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (n.startsWith('*.')) {
    const base = normalizeDomain(n.slice(2));
    return base ? '*.' + base : '';
  }
  return normalizeDomain(n);
}

/** Precision of the best certificate-name match, or -1 (no name, no certificate, or unverified). */
export function certificateScore(c: CompiledConnector, cert: CertFacts | undefined): number {
  if (!cert?.verified || c.tlsSenderCertificateName === undefined) return -1;
  const pattern = c.tlsSenderCertificateName;
  const names = [cert.subjectCN, ...cert.sanDns].filter((n): n is string => typeof n === 'string').map(certName);
  return names.reduce((best, n) => (n === '' ? best : Math.max(best, matchDomainPattern(n, pattern))), -1);
}

/** Prefix length of the connector's longest entry containing ip, or -1. */
function ipScore(c: CompiledConnector, ip: string): number {
  return c.ips.match(ip)?.prefix ?? -1;
}

/** Partner connectors serve only their senderDomains; OnPremises serve any sender. */
function servesSender(c: CompiledConnector, input: PolicyInput): boolean {
  switch (c.connectorType) {
    case 'OnPremises':
      return true;
    case 'Partner':
      return domainMatchesAny(c.senderDomains, senderDomainOf(input));
    default: {
      const never: never = c.connectorType;
      return never;
    }
  }
}

/** The highest-scoring connector (score ≥ 0); the first in config order on ties. */
function best(connectors: readonly CompiledConnector[], score: (c: CompiledConnector) => number): CompiledConnector | undefined {
  let top: CompiledConnector | undefined;
  let topScore = -1;
  for (const c of connectors) {
    const s = score(c);
    if (s > topScore) {
      top = c;
      topScore = s;
    }
  }
  return top;
}

/** Match the facts to an inbound connector: verified certificate first, then client IP. */
export function matchConnector(input: PolicyInput, snap: PolicySnapshot): ConnectorMatch | undefined {
  const eligible = snap.connectors.filter((c) => servesSender(c, input));
  const byCert = best(eligible, (c) =>
    c.restrictDomainsToIPAddresses && ipScore(c, input.clientIp) < 0 ? -1 : certificateScore(c, input.cert),
  );
  if (byCert) return { connector: byCert, matchedBy: 'certificate' };
  const byIp = best(eligible, (c) =>
    c.restrictDomainsToCertificate && certificateScore(c, input.cert) < 0 ? -1 : ipScore(c, input.clientIp),
  );
  return byIp ? { connector: byIp, matchedBy: 'ip' } : undefined;
}

/** Direct Send by the header From (any of its addresses) applies at end of DATA (or when no stage is given) when enabled. */
function headerFromDirectSend(input: PolicyInput, snap: PolicySnapshot, stage: Stage | undefined): boolean {
  if (stage !== undefined && stage !== 'eod') return false;
  if (!snap.organization.rejectDirectSendHeaderFrom) return false;
  return headerFromDomainsOf(input).some((d) => isAccepted(d, snap));
}

/** Attribution for anonymous facts (no AUTH, and no connector that may carry this recipient). */
function anonymousAttribution(input: PolicyInput, snap: PolicySnapshot, stage: Stage | undefined): Attribution {
  if (isRelayAttempt(input.rcpt, snap)) return { kind: 'relay-denied' };
  const sender = senderDomainOf(input);
  if (sender && isAccepted(sender, snap)) return { kind: 'direct-send', basis: 'mail-from' };
  if (headerFromDirectSend(input, snap, stage)) return { kind: 'direct-send', basis: 'header-from' };
  return { kind: 'anonymous-external' };
}

/** Attribution given an already computed connector match (evaluate computes it once). */
export function attributeWith(input: PolicyInput, snap: PolicySnapshot, match: ConnectorMatch | undefined, stage?: Stage): Attribution {
  if (input.authUser) return { kind: 'authenticated', user: input.authUser };
  if (match && (!isRelayAttempt(input.rcpt, snap) || connectorMayRelay(match, input, snap))) {
    const { name, connectorType } = match.connector;
    return { kind: 'connector', connector: name, connectorType, matchedBy: match.matchedBy };
  }
  return anonymousAttribution(input, snap, stage);
}

/**
 * The one attribution of the facts. `stage` only gates the header-From basis of Direct Send (eod);
 * without a stage, a headerFrom present in the facts is considered.
 */
export function attribute(input: PolicyInput, snap: PolicySnapshot, stage?: Stage): Attribution {
  return attributeWith(input, snap, matchConnector(input, snap), stage);
}
