/**
 * @module ops/list-entry
 * Parsing of allow/block list entries typed by an admin: an IP or CIDR (IPv4, IPv6), or a sender
 * domain pattern (`contoso.com`, `*.contoso.com`). Something that looks like an address but is
 * not a valid one (`999.1.1.1`, `10.0.0.0/33`, `fe80::zz`) is refused (OpsError `invalid`), never
 * stored as a domain; so are addresses (`user@x`), `*` alone and names that are no domain. Also
 * which accepted domains a block-list entry would cover, with the reply that would refuse them
 * (its text from the caller: ops/ may not import smtp/replies).
 * Touches: nothing.
 */
import { matchDomainPattern, normalizeDomain } from '../core/address.ts';
import { isIpOrCidr, normalizeIp } from '../core/cidr.ts';
import type { Config } from '../config/index.ts';
import { OpsError } from './errors.ts';
import type { ReplyText } from './policy-replay.ts';

const LOOKS_LIKE_IP = /^[\d.]+(\/.*)?$|:|\//;
const DOMAIN = /^(\*\.)?([A-Za-z0-9\u00a0-\uffff]([A-Za-z0-9\u00a0-\uffff-]*[A-Za-z0-9\u00a0-\uffff])?\.)*[A-Za-z0-9\u00a0-\uffff]([A-Za-z0-9\u00a0-\uffff-]*[A-Za-z0-9\u00a0-\uffff])?\.?$/;

/** The entry as it will be stored, or an OpsError (`invalid`) saying why it is neither an IP/CIDR nor a domain. */
export function parseListEntry(raw: string): string {
  const e = raw.trim();
  if (LOOKS_LIKE_IP.test(e)) {
    if (isIpOrCidr(e)) return e;
    throw new OpsError('invalid', `"${e}" is not a valid IP address or CIDR (IPv4: four numbers 0-255, prefix /0-32; IPv6: prefix /0-128)`);
  }
  if (e.includes('@')) throw new OpsError('invalid', `"${e}" is an address; list entries are IPs, CIDRs or domains (use ${e.slice(e.lastIndexOf('@') + 1) || 'the domain'})`);
  if (e === '*') throw new OpsError('invalid', '"*" would match every sender domain; name a domain or *.domain');
  const host = e.startsWith('*.') ? e.slice(2) : e;
  if (!DOMAIN.test(e) || !normalizeDomain(host) || !host.includes('.')) {
    throw new OpsError('invalid', `"${e}" is neither an IP address, a CIDR nor a domain name (e.g. 192.0.2.1, 198.51.100.0/24, spam.example, *.spam.example)`);
  }
  return e;
}

/** Canonical form for comparing entries: IPs normalised, domains lower-case IDNA. */
export function canonicalEntry(entry: string): string {
  if (isIpOrCidr(entry)) {
    const [ip, prefix] = entry.split('/');
    return (normalizeIp(ip ?? '') || entry.toLowerCase()) + (prefix !== undefined ? `/${prefix}` : '');
  }
  return entry.startsWith('*.') ? '*.' + normalizeDomain(entry.slice(2)) : normalizeDomain(entry) || entry.toLowerCase();
}

/**
 * For block-list entries: one note per accepted domain an entry covers, saying what blocking it
 * would refuse (`replyText` gives the SMTP reply of the `sender-blocked` key). Empty when none is covered.
 */
export function acceptedDomainsBlocked(config: Config, entries: readonly string[], replyText: ReplyText): string[] {
  const notes: string[] = [];
  for (const e of entries) {
    if (isIpOrCidr(e)) continue;
    const pattern = e.startsWith('*.') ? '*.' + normalizeDomain(e.slice(2)) : normalizeDomain(e);
    for (const d of config.acceptedDomains) {
      const domain = normalizeDomain(d.domainName);
      if (matchDomainPattern(domain, pattern) < 0 && !(d.matchSubDomains && matchDomainPattern(pattern.replace(/^\*\./, ''), '*.' + domain) >= 0)) continue;
      const reply = replyText('sender-blocked', { domain }).split(' ').slice(0, 2).join(' ');
      notes.push(
        `"${e}" covers your accepted domain ${domain}: every message with a MAIL FROM in it would be refused at MAIL FROM (${reply}) — Direct Send, connector mail and authenticated users (SMTP AUTH) alike`,
      );
    }
  }
  return notes;
}
