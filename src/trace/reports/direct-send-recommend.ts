/**
 * @module trace/reports/direct-send-recommend
 * What to do about a classified Direct Send source: the exact `mailgate …` command and Exchange
 * Online's equivalent (reference §1.4, §3.3-3.4, §4).
 * - device-or-app: a Partner inbound connector for the source, by its verified client certificate
 *   when it presented one, else by its IP — created WITHOUT a domain restriction: a restriction
 *   locks the sender domain to that connector, so every other source of the domain would get
 *   5.7.51 at once; restrictions come in one later step (the audit plan stages them). An IPv6
 *   source without a certificate cannot have an Exchange connector (SenderIPAddresses is IPv4
 *   only): it relays through mailgate with authenticated submission on mailgate's submission
 *   listener (mailgate delivers to Exchange through its certificate connector), or uses OAuth.
 * - third-party-service: through a shared sending service (its IPs send for every customer) never
 *   a connector: have the service send with its own return-path and DKIM-sign as the domain, so
 *   DMARC passes by alignment and the mail is no longer Direct Send (P1 outside the accepted
 *   domains). Another service: a connector by its certificate when it presented one, else by the
 *   IP ranges the service documents for the account (never the one /32 seen).
 * - likely-spoof: nothing to migrate; RejectDirectSend will stop it.
 * - unknown: investigate with the evidence (the trace search and the message trace query);
 *   never an SMTP AUTH grant. Basic SMTP AUTH is disabled by default from the end of December
 *   2026 (MC786329): `Set-CASMailbox -SmtpClientAuthenticationDisabled $false` is never advised.
 * Touches: nothing (pure).
 */
import { isIP } from 'node:net';
import { plainIp } from './common.ts';
import type { Classification } from './direct-send-classify.ts';

/** A shell word: bare when safe, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A PowerShell double-quoted string with `"`, `` ` `` and `$` escaped (line breaks become spaces). */
export function psString(s: string): string {
  return `"${s.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/[`"$\u201c\u201d\u201e]/g, (c) => '`' + c)}"`;
}

/** A PowerShell argument: bare when a plain token (domain, IP, CIDR, `*`), else single-quoted. */
export function psArg(s: string): string {
  return /^[A-Za-z0-9.:*/_-]+$/.test(s) ? s : `'${s.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/['\u2018\u2019]/g, (c) => c + c)}'`;
}

export interface RecommendInput {
  classification: Classification;
  clientIp: string;
  sender: string;
  senderDomain: string;
  /** CN of a verified client certificate the source presented, if any. */
  certCn?: string | undefined;
  /** The SPF term that authorised the IP (third-party-service). */
  spfMechanism?: string | undefined;
  /** The shared sending service that term names, if any. */
  sharedService?: string | undefined;
}

export type RecommendAction = 'connector-certificate' | 'connector-ip' | 'relay-via-mailgate' | 'dmarc-aligned' | 'vendor-connector' | 'none' | 'investigate';

export interface Recommendation {
  action: RecommendAction;
  command: string;
  powershell: string;
}

/** The connector name a recommendation uses for a source. */
export function connectorNameFor(r: Pick<RecommendInput, 'clientIp' | 'certCn'>, byCert: boolean): string {
  return byCert && r.certCn ? `Direct Send ${r.certCn}` : `Direct Send ${plainIp(r.clientIp)}`;
}

function certificateConnector(r: RecommendInput): Recommendation {
  const name = connectorNameFor(r, true);
  const cn = r.certCn ?? '';
  return {
    action: 'connector-certificate',
    command: `mailgate connector add ${shellWord(name)} --type Partner --tls-cert-name ${shellWord(cn)} --sender-domain ${shellWord(r.senderDomain)} --require-tls`,
    powershell: `New-InboundConnector -Name ${psString(name)} -ConnectorType Partner -SenderDomains ${psArg(r.senderDomain)} -TlsSenderCertificateName ${psArg(cn)} -RequireTls $true -RestrictDomainsToCertificate $false`,
  };
}

/** The exact `mailgate …` command and Exchange Online PowerShell for a classified source (module header). */
export function recommend(r: RecommendInput): Recommendation {
  const ip = plainIp(r.clientIp);
  const v6 = isIP(ip) === 6;
  switch (r.classification) {
    case 'likely-spoof':
      return { action: 'none', command: '# nothing to migrate: RejectDirectSend will stop it', powershell: '# nothing to migrate: RejectDirectSend will stop it' };
    case 'unknown':
      return {
        action: 'investigate',
        command: `mailgate trace search --since 30d --client-ip ${ip} --sender ${shellWord(r.sender || '<>')}`,
        powershell: `Get-MessageTraceV2 -SenderAddress ${psString(r.sender)} -FromIP ${ip} -StartDate (Get-Date).AddDays(-10) -EndDate (Get-Date) | Get-MessageTraceDetailV2`,
      };
    case 'third-party-service': {
      if (r.certCn) return certificateConnector(r);
      const via = r.spfMechanism ?? 'its SPF include';
      if (r.sharedService) {
        const text = `# ${r.sharedService} is a shared sending service (${via}): no connector (its IPs send for every customer). Have it send with its own return-path (a bounce domain that is not an accepted domain) and DKIM-sign as ${psArg(r.senderDomain)}, so DMARC passes by alignment and the mail is no longer Direct Send`;
        return { action: 'dmarc-aligned', command: text, powershell: text };
      }
      const name = `Direct Send ${via.replace(/^[+?~-]?(include:|redirect=)/i, '')}`;
      return {
        action: 'vendor-connector',
        command: `# mailgate connector add ${shellWord(name)} --type Partner --sender-domain ${shellWord(r.senderDomain)} --sender-ip <the ranges the service documents for your account (${via})>`,
        powershell: `# New-InboundConnector -Name ${psString(name)} -ConnectorType Partner -SenderDomains ${psArg(r.senderDomain)} -SenderIPAddresses <the ranges the service documents for your account (${via}); not the one address seen> -RestrictDomainsToIPAddresses $false`,
      };
    }
    case 'device-or-app': {
      if (r.certCn) return certificateConnector(r);
      const name = connectorNameFor(r, false);
      const command = `mailgate connector add ${shellWord(name)} --type Partner --sender-ip ${ip}/${v6 ? 128 : 32} --sender-domain ${shellWord(r.senderDomain)}`;
      if (v6) {
        return {
          action: 'relay-via-mailgate',
          command,
          powershell: `# Exchange Online connectors take IPv4 only: relay ${ip} through mailgate (mailgate user add ${shellWord(r.sender)} on mailgate's submission listener; mailgate delivers through its certificate connector, see mailgate route show --exchange) or use OAuth for SMTP AUTH`,
        };
      }
      return {
        action: 'connector-ip',
        command,
        powershell: `New-InboundConnector -Name ${psString(name)} -ConnectorType Partner -SenderDomains ${psArg(r.senderDomain)} -SenderIPAddresses ${ip} -RestrictDomainsToIPAddresses $false`,
      };
    }
    default: {
      const never: never = r.classification;
      return never;
    }
  }
}
