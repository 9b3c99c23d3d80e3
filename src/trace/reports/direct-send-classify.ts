/**
 * @module trace/reports/direct-send-classify
 * Classification of a Direct Send source, for the readiness report and the audit plan. Each source
 * carries the signals that decided its class and warnings. The rules, in order (the first that
 * holds decides):
 *
 * 1. `likely-spoof`: SPF fail (or softfail) plus DMARC fail, without DKIM pass, recorded on every
 *    message that has both results, and the organization's SPF record does not authorise the IP.
 *    An internal range never outweighs this (the warning says the range did not decide).
 * 2. The organization's own SPF record authorises the IP (evaluated live, or from `--spf`, for
 *    the sender's domain; the term that matched decides):
 *    - but Exchange named phishing or spoofing, or recorded SPF+DMARC failed → `unknown` (investigate);
 *    - through `include:` / `redirect=` → `third-party-service`; when the included domain is a
 *      shared sending service (SendGrid, Mailchimp, Amazon SES, …) it is named, because its IPs
 *      send for every customer of that service;
 *    - through any other term (ip4, ip6, a, mx …) → `device-or-app`.
 * 3. An internal range (`--internal`, default RFC 1918, loopback, ULA) → `device-or-app`, unless
 *    contradicted: the organization's SPF fails the IP against `-all` while the HELO names a host
 *    outside the sender's domain (and no verified client certificate vouches for it), or Exchange
 *    flagged the source → `unknown`. A warning says when
 *    the client IP is loopback or a NAT range (Docker's 172.17.0.0/16, CGNAT, user-mode NAT):
 *    behind port publishing every internet client can appear as such an address.
 * 4. `likely-spoof`: outside every internal range, not authorised by the organization's SPF, and
 *    Exchange itself flagged it (direct-send-evidence `exchangeFlags`: phishing or spoofing named,
 *    every message held back — Quarantined, FilteredAsSpam, Junked … — or CompAuth fail on all).
 * 5. `unknown`: none of the above; the signals list the evidence to investigate.
 * Touches: nothing (pure).
 */
import { compileCidrs, type CidrMatcher } from '../../core/cidr.ts';
import { authLines, exchangeFlags, phishOrSpoof, type Evidence } from './direct-send-evidence.ts';

export type Classification = 'device-or-app' | 'third-party-service' | 'likely-spoof' | 'unknown';

/** The outcome of evaluating the organization's SPF record for (ip, domain). */
export interface SpfAuthorization {
  /** SPF result: pass, fail, softfail, neutral, none, temperror, permerror, or 'unknown'. */
  result: string;
  /** The mechanism that matched, e.g. "ip4:192.0.2.0/24" or "include:sendgrid.net". */
  mechanism?: string | undefined;
}

/**
 * Evaluates the organization's published SPF record for a client IP and a sender domain (live
 * DNS). Injected: the default answers 'unknown' until a resolver-backed implementation is wired.
 */
export type SpfAuthorizer = (ip: string, domain: string) => Promise<SpfAuthorization>;

/** The default SpfAuthorizer: no resolver, every answer 'unknown'. */
export const unknownSpfAuthorizer: SpfAuthorizer = async () => ({ result: 'unknown' });

/** Shared sending services by the domain their customers include in SPF (suffix match). */
const SHARED_SERVICES: readonly (readonly [string, string])[] = [
  ['sendgrid.net', 'SendGrid'], ['mcsv.net', 'Mailchimp'], ['rsgsv.net', 'Mailchimp'], ['mandrillapp.com', 'Mailchimp Transactional (Mandrill)'],
  ['amazonses.com', 'Amazon SES'], ['mailgun.org', 'Mailgun'], ['sparkpostmail.com', 'SparkPost'], ['mtasv.net', 'Postmark'],
  ['mailjet.com', 'Mailjet'], ['sendinblue.com', 'Brevo'], ['brevo.com', 'Brevo'], ['salesforce.com', 'Salesforce'],
  ['exacttarget.com', 'Salesforce Marketing Cloud'], ['mktomail.com', 'Marketo'], ['hubspotemail.net', 'HubSpot'], ['zendesk.com', 'Zendesk'],
  ['freshdesk.com', 'Freshdesk'], ['constantcontact.com', 'Constant Contact'], ['elasticemail.com', 'Elastic Email'], ['mailchannels.net', 'MailChannels'],
  ['google.com', 'Google Workspace'], ['protection.outlook.com', 'Microsoft 365 (shared with every tenant)'], ['emailsrvr.com', 'Rackspace Email'],
];

/** The shared service an `include:`/`redirect=` term names, if it is one. */
export function sharedServiceOf(mechanism: string | undefined): string | undefined {
  const m = /^[+?~-]?(?:include:|redirect=)([^\s]+)$/i.exec(mechanism ?? '');
  if (!m) return undefined;
  const d = m[1]!.toLowerCase().replace(/\.$/, '');
  return SHARED_SERVICES.find(([s]) => d === s || d.endsWith('.' + s))?.[1];
}

/** Addresses behind which many clients can hide (port publishing, NAT): an internal range proves nothing there. */
const NAT_RANGES: readonly (readonly [string, string])[] = [
  ['127.0.0.0/8', 'loopback'], ['::1/128', 'loopback'], ['172.17.0.0/16', "Docker's default bridge (NAT)"],
  ['10.88.0.0/16', "Podman's default network (NAT)"], ['10.0.2.0/24', 'user-mode NAT (QEMU, VirtualBox, slirp4netns)'], ['100.64.0.0/10', 'carrier-grade NAT'],
];
const natMatcher = compileCidrs(NAT_RANGES.map(([r]) => r));

/** The warning for a client IP on a loopback or NAT range, or undefined. */
export function natWarning(ip: string): string | undefined {
  const hit = natMatcher.match(ip);
  if (!hit) return undefined;
  const what = NAT_RANGES.find(([r]) => r === hit.entry)?.[1] ?? 'NAT';
  return `client IP ${ip} is ${what} (${hit.entry}): behind port publishing or NAT every internet client can appear as this address, so an internal range proves nothing here (set --internal to your real device ranges)`;
}

/** HELO names that are host names outside the sender's domain (IP literals and bare names are not). */
export function foreignHelos(helos: readonly string[], senderDomain: string): string[] {
  const d = senderDomain.toLowerCase();
  return helos.filter((h) => {
    const n = h.trim().toLowerCase().replace(/\.$/, '');
    if (!n.includes('.') || n.startsWith('[') || /^[\d.]+$/.test(n) || n.includes(':')) return false;
    return d === '' || !(n === d || n.endsWith('.' + d));
  });
}

export interface ClassifyInput {
  clientIp: string;
  senderDomain: string;
  internal: CidrMatcher;
  evidence: Evidence;
  spf: SpfAuthorization;
  helos: readonly string[];
  /** CN of a verified client certificate the source presented. */
  certCn?: string | undefined;
}

export interface ClassifyResult {
  classification: Classification;
  /** One sentence: which rule decided. */
  reason: string;
  /** The signals that decided the class (field and value, e.g. "Status Quarantined 2/2"). */
  signals: string[];
  warnings: string[];
  /** The shared sending service the SPF include names (third-party-service only). */
  sharedService?: string | undefined;
}

/** Apply the rules of this module's header. */
export function classifySource(s: ClassifyInput): ClassifyResult {
  const e = s.evidence;
  const warnings: string[] = [];
  const hit = s.internal.match(s.clientIp);
  const nat = hit ? natWarning(s.clientIp) : undefined;
  if (nat) warnings.push(nat);
  const mech = s.spf.mechanism ?? '';
  const spfLine = `organization's SPF: ${s.spf.result}${mech ? ` (${mech})` : ''}`;
  const ownSpf = s.spf.result === 'pass';
  const authFailed = e.spfDmarcKnown > 0 && e.spfDmarcFailed === e.spfDmarcKnown;
  const authFailedLine = `recorded SPF fail + DMARC fail ${e.spfDmarcFailed}/${e.spfDmarcKnown}`;
  const flags = exchangeFlags(e);
  const out = (classification: Classification, reason: string, signals: string[], sharedService?: string): ClassifyResult => ({ classification, reason, signals, warnings, sharedService });

  if (authFailed && !ownSpf) {
    if (hit) warnings.push(`internal range ${hit.entry} did not decide: SPF and DMARC failed`);
    return out('likely-spoof', 'SPF and DMARC failed and the organization\'s SPF does not authorise the IP', [authFailedLine, spfLine, ...flags]);
  }
  if (ownSpf) {
    if (phishOrSpoof(e) || authFailed) {
      return out('unknown', "authorised by the organization's SPF, but contradicted: investigate before giving it a path", [spfLine, ...(authFailed ? [authFailedLine] : []), ...flags]);
    }
    if (/^[+?~-]?(include:|redirect=)/i.test(mech)) {
      const shared = sharedServiceOf(mech);
      return out('third-party-service', `authorised by the organization's SPF ${mech}${shared ? ` (${shared}, a shared sending service)` : ''}`, [spfLine], shared);
    }
    return out('device-or-app', `authorised by the organization's SPF${mech ? ' ' + mech : ''}`, [spfLine]);
  }
  if (hit) {
    const foreign = foreignHelos(s.helos, s.senderDomain);
    if (s.spf.result === 'fail' && foreign.length && !s.certCn) {
      warnings.push(`internal range ${hit.entry} did not decide: contradicted by SPF and HELO`);
      return out('unknown', `on internal range ${hit.entry}, but the organization's SPF fails it and the HELO ${foreign[0]} is outside ${s.senderDomain || 'the sender domain'}: investigate`, [`internal range ${hit.entry}`, spfLine, `foreign HELO ${foreign.join(', ')}`]);
    }
    if (flags.length) {
      warnings.push(`internal range ${hit.entry} did not decide: contradicted by Exchange's verdicts`);
      return out('unknown', `on internal range ${hit.entry}, but Exchange flagged it: investigate`, [`internal range ${hit.entry}`, ...flags]);
    }
    return out('device-or-app', `internal range ${hit.entry} decided`, [`internal range ${hit.entry}`, ...(s.certCn ? [`verified client certificate ${s.certCn}`] : [])]);
  }
  if (flags.length) {
    return out('likely-spoof', "not authorised by the organization's SPF, and Exchange itself flagged it", [spfLine, ...flags]);
  }
  const evidence = authLines(e);
  return out('unknown', evidence.length ? 'no rule decided: investigate with the evidence' : 'no evidence recorded; not internal; not authorised by SPF: investigate', [spfLine, ...evidence]);
}
