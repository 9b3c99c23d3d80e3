/**
 * @module core/address
 * Mailbox and domain parsing for policy decisions: lower-cases and IDNA-encodes domains
 * (so "EXAMPLE.com." and "exämple.com" compare as the DNS does), splits local part and domain,
 * and flags routing syntax that a downstream MTA might interpret as a relay instruction
 * (RFC 5321 source routes "@a,@b:user@c", the "%" hack, UUCP "!" paths).
 * Touches: nothing. RFCs: 5321 §4.1.2 (Path, Mailbox), 5890/5891 (IDNA), 5322 §3.4.
 */
import { domainToASCII } from 'node:url';

export interface ParsedAddress {
  /** The address as given (without angle brackets). */
  raw: string;
  local: string;
  /** Lower-case ASCII (A-label) domain, no trailing dot; '' for the null sender. */
  domain: string;
  /** local@domain with the domain normalised; '' for the null sender. */
  address: string;
  /** True when the address carries relay routing syntax (source route, %, !). */
  routing: boolean;
  /** True when the domain could not be parsed. */
  invalid: boolean;
}

/** Normalise a domain: trim, strip a trailing dot and [brackets] are kept as-is, lower-case, IDNA. */
export function normalizeDomain(domain: string): string {
  let d = domain.trim();
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d.startsWith('[') && d.endsWith(']')) return d.toLowerCase();
  // Fast path (the policy hot path): a plain LDH name needs only lower-casing; IDNA (and its
  // validation of xn-- labels) is for everything else.
  if (/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(d) && !/(^|\.)xn--/i.test(d)) return d.toLowerCase();
  const ascii = domainToASCII(d.toLowerCase());
  return ascii || '';
}

/** Parse an envelope or header address. '' (or '<>') is the null sender. */
export function parseAddress(input: string): ParsedAddress {
  let raw = input.trim();
  if (raw.startsWith('<') && raw.endsWith('>')) raw = raw.slice(1, -1).trim();
  if (raw === '') return { raw, local: '', domain: '', address: '', routing: false, invalid: false };
  let routing = false;
  let addr = raw;
  // RFC 5321 source route: "@relay1,@relay2:user@domain" — obsolete, and a relay instruction.
  const colon = addr.indexOf(':');
  if (addr.startsWith('@') && colon > 0) {
    routing = true;
    addr = addr.slice(colon + 1);
  }
  const at = addr.lastIndexOf('@');
  if (at <= 0 || at === addr.length - 1) {
    return { raw, local: addr, domain: '', address: addr.toLowerCase(), routing: routing || /[%!]/.test(addr), invalid: true };
  }
  const local = addr.slice(0, at);
  const domain = normalizeDomain(addr.slice(at + 1));
  // Quoted local parts may legitimately contain % or !, but a next hop may still route on them.
  if (/[%!@]/.test(local)) routing = true;
  return { raw, local, domain, address: domain ? `${local}@${domain}` : local, routing, invalid: domain === '' };
}

/** True when `domain` equals `parent` or is a subdomain of it (both normalised). */
export function isSubdomainOf(domain: string, parent: string): boolean {
  return domain === parent || domain.endsWith('.' + parent);
}

/**
 * Match a domain against an Exchange-style domain pattern: "contoso.com" (exact), "*.contoso.com"
 * (the domain and all its subdomains, as SenderDomains and TlsSenderCertificateName define it),
 * or "*" (any domain). Returns a precision score (higher = more precise) or -1 for no match.
 */
export function matchDomainPattern(domain: string, pattern: string): number {
  const d = domain.toLowerCase();
  const p = pattern.toLowerCase();
  if (p === '*') return 0;
  if (p.startsWith('*.')) {
    const base = p.slice(2);
    return isSubdomainOf(d, base) ? base.length : -1;
  }
  return d === p ? 1000 + p.length : -1;
}

/** Extract the first address from a header value such as `"Name" <a@b.c>, other@x.y`. */
export function firstHeaderAddress(value: string): string | undefined {
  const angle = /<([^<>]*)>/.exec(value);
  if (angle) return angle[1]?.trim();
  const bare = /([^\s,;:<>"()]+@[^\s,;:<>"()]+)/.exec(value);
  return bare?.[1];
}
