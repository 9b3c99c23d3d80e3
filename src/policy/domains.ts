/**
 * @module policy/domains
 * Domain questions policy asks again and again: which accepted domain covers a domain (exact, or a
 * subdomain when the accepted domain has matchSubDomains, as Exchange's MatchSubDomains), the sender
 * (MAIL FROM, P1) domain of the facts, and whether a domain matches a list of Exchange-style
 * patterns ('*', 'contoso.com', '*.contoso.com').
 * Touches: nothing (pure). RFCs: 5321 §4.1.2 (reverse-path, null sender "<>").
 */
import { firstHeaderAddress, matchDomainPattern, normalizeDomain, parseAddress } from '../core/address.ts';
import type { CompiledAcceptedDomain, PolicyInput, PolicySnapshot } from './types.ts';

/**
 * The accepted domain that covers `domain`: an exact match first, otherwise the longest accepted
 * domain with matchSubDomains of which `domain` is a subdomain. undefined when none does.
 */
export function acceptedDomainOf(domain: string, snap: PolicySnapshot): CompiledAcceptedDomain | undefined {
  const d = normalizeDomain(domain);
  if (d === '') return undefined;
  let best: CompiledAcceptedDomain | undefined;
  for (const ad of snap.acceptedDomains) {
    if (ad.domainName === d) return ad;
    if (ad.matchSubDomains && d.endsWith('.' + ad.domainName)) {
      if (!best || ad.domainName.length > best.domainName.length) best = ad;
    }
  }
  return best;
}

/** True when `domain` is covered by an accepted domain. */
export function isAccepted(domain: string, snap: PolicySnapshot): boolean {
  return acceptedDomainOf(domain, snap) !== undefined;
}

/**
 * The MAIL FROM domain: undefined while MAIL FROM is not known yet (connect, helo), '' for the null
 * sender "<>" (and for a reverse-path without a usable domain), else the normalised domain.
 */
export function senderDomainOf(input: PolicyInput): string | undefined {
  if (input.mailFrom === undefined) return undefined;
  return parseAddress(input.mailFrom).domain;
}

/** The header From domain (a bare address or `"Name" <a@b>`), or '' when absent or unparsable. */
export function headerFromDomainOf(input: PolicyInput): string {
  if (input.headerFrom === undefined) return '';
  const addr = firstHeaderAddress(input.headerFrom) ?? input.headerFrom;
  return parseAddress(addr).domain;
}

/**
 * Every header From domain: of each address in headerFromAddresses when known (every From field,
 * groups flattened), else of headerFrom. Empty when there is none.
 */
export function headerFromDomainsOf(input: PolicyInput): string[] {
  const addrs = input.headerFromAddresses;
  if (addrs === undefined || addrs.length === 0) {
    const d = headerFromDomainOf(input);
    return d === '' ? [] : [d];
  }
  return addrs.map((a) => parseAddress(a).domain).filter((d) => d !== '');
}

/**
 * True when `domain` matches one of `patterns` ('*', 'd', '*.d'). A missing domain (MAIL FROM not
 * known yet, or the null sender) matches only '*'.
 */
export function domainMatchesAny(patterns: readonly string[], domain: string | undefined): boolean {
  if (!domain) return patterns.includes('*');
  return patterns.some((p) => matchDomainPattern(domain, p) >= 0);
}
