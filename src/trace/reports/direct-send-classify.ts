/**
 * @module trace/reports/direct-send-classify
 * Classification of a Direct Send source and what to do about it, for the Direct Send readiness
 * report. The rules, in order (the first that holds decides):
 *
 * 1. `device-or-app`: the client IP is on an internal range (`--internal`, default RFC 1918,
 *    loopback, ULA). Only your own network reaches the gateway from there.
 * 2. The organization's own published SPF record authorises the IP (evaluated live by the
 *    injected SpfAuthorizer for the sender's domain):
 *    - through an `include:` or `redirect=` mechanism → `third-party-service` (a SaaS range the
 *      organization included, e.g. include:sendgrid.net);
 *    - through any other mechanism (ip4, ip6, a, mx, …) → `device-or-app`.
 * 3. `likely-spoof`: authentication results were recorded for at least one message and every
 *    such message failed all three: SPF fail or softfail, DKIM not pass, DMARC fail.
 * 4. `device-or-app`: SPF results were recorded and every one is pass (the IP is in the SPF
 *    record of the sender's domain, one of the organization's accepted domains).
 * 5. `unknown`: none of the above (including: no authentication results recorded yet).
 *
 * Recommendations (the exact command, and Exchange Online's equivalent, reference §1.4, §3.3-3.4):
 * - device-or-app and third-party-service: a Partner inbound connector for the source, by its
 *   verified client certificate when it presented one (`--tls-cert-name CN
 *   --restrict-domains-to-certificate --require-tls` / `-TlsSenderCertificateName CN
 *   -RestrictDomainsToCertificate $true -RequireTls $true`), else by its IP
 *   (`--sender-ip IP/32 --restrict-domains-to-ip` / `-SenderIPAddresses IP
 *   -RestrictDomainsToIPAddresses $true`).
 * - likely-spoof: block the IP (`mailgate list block add IP` / the connection filter policy's
 *   IPBlockList).
 * - unknown: move the sender to SMTP AUTH (`mailgate user add SENDER` / SMTP AUTH enabled on the
 *   mailbox), since nothing vouches for the source's IP.
 * Touches: nothing (pure).
 */
import type { CidrMatcher } from '../../core/cidr.ts';
import { isIP } from 'node:net';
import { plainIp } from './common.ts';

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

/** Authentication facts of one source, as counted over its messages. */
export interface AuthCounts {
  messages: number;
  /** Messages with an SPF result recorded, and how many of them pass. */
  spfKnown: number;
  spfPass: number;
  /** Messages with SPF, DKIM and DMARC all recorded, and how many failed all three. */
  allKnown: number;
  failedAll: number;
}

export interface ClassifyInput {
  clientIp: string;
  internal: CidrMatcher;
  auth: AuthCounts;
  spf: SpfAuthorization;
}

/** Apply the rules of this module's header; returns the class and the rule that decided. */
export function classifySource(s: ClassifyInput): { classification: Classification; reason: string } {
  const hit = s.internal.match(s.clientIp);
  if (hit) return { classification: 'device-or-app', reason: `internal range ${hit.entry}` };
  if (s.spf.result === 'pass') {
    const mech = s.spf.mechanism ?? '';
    if (/^[+?~-]?(include:|redirect=)/i.test(mech)) return { classification: 'third-party-service', reason: `authorised by the organization's SPF ${mech}` };
    return { classification: 'device-or-app', reason: `authorised by the organization's SPF${mech ? ' ' + mech : ''}` };
  }
  const a = s.auth;
  if (a.allKnown > 0 && a.failedAll === a.allKnown) {
    return { classification: 'likely-spoof', reason: `SPF, DKIM and DMARC all failed on ${a.failedAll} of ${a.allKnown} message(s) with results` };
  }
  if (a.spfKnown > 0 && a.spfPass === a.spfKnown) return { classification: 'device-or-app', reason: `SPF pass on all ${a.spfKnown} message(s) with a result` };
  return { classification: 'unknown', reason: a.spfKnown === 0 ? 'no authentication results recorded; not internal; not in SPF' : 'authentication results inconclusive' };
}

/** A shell word: bare when safe, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface RecommendInput {
  classification: Classification;
  clientIp: string;
  sender: string;
  senderDomain: string;
  /** CN of a verified client certificate the source presented, if any. */
  certCn?: string | undefined;
}

export interface Recommendation {
  action: 'connector-certificate' | 'connector-ip' | 'block' | 'smtp-auth';
  command: string;
  powershell: string;
}

/** The connector name a recommendation uses for a source. */
export function connectorNameFor(r: Pick<RecommendInput, 'clientIp' | 'certCn'>, byCert: boolean): string {
  return byCert && r.certCn ? `Direct Send ${r.certCn}` : `Direct Send ${plainIp(r.clientIp)}`;
}

/** The exact `mailgate …` command and Exchange Online PowerShell for a classified source. */
export function recommend(r: RecommendInput): Recommendation {
  const ip = plainIp(r.clientIp);
  const v6 = isIP(ip) === 6;
  if (r.classification === 'likely-spoof') {
    return {
      action: 'block',
      command: `mailgate list block add ${ip}`,
      powershell: `Set-HostedConnectionFilterPolicy -Identity Default -IPBlockList @{Add="${ip}"}`,
    };
  }
  if (r.classification === 'unknown') {
    return {
      action: 'smtp-auth',
      command: `mailgate user add ${shellWord(r.sender)}`,
      powershell: `Set-CASMailbox -Identity "${r.sender}" -SmtpClientAuthenticationDisabled $false`,
    };
  }
  if (r.certCn) {
    const name = connectorNameFor(r, true);
    return {
      action: 'connector-certificate',
      command: `mailgate connector add ${shellWord(name)} --type Partner --tls-cert-name ${shellWord(r.certCn)} --sender-domain ${shellWord(r.senderDomain)} --restrict-domains-to-certificate --require-tls`,
      powershell: `New-InboundConnector -Name "${name}" -ConnectorType Partner -SenderDomains ${r.senderDomain} -TlsSenderCertificateName ${r.certCn} -RestrictDomainsToCertificate $true -RequireTls $true`,
    };
  }
  const name = connectorNameFor(r, false);
  return {
    action: 'connector-ip',
    command: `mailgate connector add ${shellWord(name)} --type Partner --sender-ip ${ip}/${v6 ? 128 : 32} --sender-domain ${shellWord(r.senderDomain)} --restrict-domains-to-ip`,
    powershell: v6
      ? `# Exchange Online connectors take IPv4 only (SenderIPAddresses); use a certificate connector for ${ip}`
      : `New-InboundConnector -Name "${name}" -ConnectorType Partner -SenderDomains ${r.senderDomain} -SenderIPAddresses ${ip} -RestrictDomainsToIPAddresses $true`,
  };
}
