/**
 * @module ops/exchange-front
 * The Exchange Online side of a route that delivers to the tenant, as Microsoft documents a
 * gateway in front of Exchange Online ("Manage mail flow using a third-party cloud service";
 * reference §3.2–3.4, §1.3): mail for accepted domains (the MX path) arrives on a **Partner**
 * connector matched by certificate or IP, with Enhanced Filtering so Exchange sees the original
 * sender IP, locked down (`RestrictDomainsTo…`) only after the MX switch; an **OnPremises**
 * connector only for a route that relays *out* through Exchange and carries no MX traffic (an
 * OnPremises match makes a message Originating — a spoof of an accepted domain arriving by MX
 * would be trusted as the tenant's own, §3.2 step 1). Then `RejectDirectSend`.
 * Touches: nothing (pure); the caller reads the certificate name.
 */
import { matchDomainPattern } from '../core/address.ts';
import type { Config, Route } from '../config/index.ts';
import { psLine } from './exchange-cmdlets.ts';
import { winningRoute } from './route-precedence.ts';


/** Accepted domains whose mail (internet MX traffic) this route delivers. */
export function mxDomains(route: Route, config: Config): string[] {
  return config.acceptedDomains.map((d) => d.domainName).filter((d) => winningRoute(config.routes, d)?.name === route.name);
}

/** True when the route also serves domains that are not accepted (mail relayed out through Exchange). */
export function relaysOut(route: Route, config: Config): boolean {
  const accepted = config.acceptedDomains.map((d) => d.domainName);
  return route.domains.some((p) => p === '*' || !accepted.some((d) => matchDomainPattern(d, p) >= 0));
}

/** How Exchange recognises mailgate on this route: a certificate name, else the public IPv4. */
export interface Identity {
  /** TlsSenderCertificateName for the route's client certificate, when it has one. */
  certName?: string;
}

const IP = '<your public IPv4>';

function partnerPlan(route: Route, config: Config, id: Identity, domains: string[]): string[] {
  const name = `mailgate ${route.name}`;
  const match: [('TlsSenderCertificateName' | 'SenderIPAddresses'), string][] = id.certName ? [['TlsSenderCertificateName', id.certName]] : [['SenderIPAddresses', IP]];
  const tls = id.certName || route.tls === 'required' ? ([['RequireTls', true]] as const) : [];
  const lock = id.certName ? (['RestrictDomainsToCertificate', true] as const) : (['RestrictDomainsToIPAddresses', true] as const);
  const out = [
    `# Route "${route.name}" delivers mail for accepted domains (${domains.join(', ')}) — the internet MX path.`,
    '# Steps in order (Microsoft: "Manage mail flow using a third-party cloud service"):',
    '#',
    `# 1. A day ahead, lower the TTL of the MX records of ${domains.join(', ')} (e.g. to 300 s).`,
    '# 2. Partner connector from mailgate, and Enhanced Filtering so Exchange sees the original sender IP:',
    psLine('New-InboundConnector', [['Name', name], ['ConnectorType', 'Partner'], ['SenderDomains', '*'], ...match, ...tls]),
    psLine('Set-InboundConnector', [['Identity', name], ['EFSkipLastIP', true]]),
    '#    (with Enhanced Filtering on, disable any mail flow rule that sets SCL -1 for mail from mailgate)',
    '# 3. Send a test message from outside through mailgate; the trace must show this connector:',
    psLine('Get-MessageTraceV2', [['MessageId', '<Message-ID of the test message>']]) + ' | Get-MessageTraceDetailV2',
    `# 4. Switch the MX records of ${domains.join(', ')} to mailgate; wait out the old TTL.`,
    '# 5. Lock down: the tenant now refuses mail for these domains that did not come through mailgate (550 5.7.51 TenantInboundAttribution):',
    psLine('Set-InboundConnector', [['Identity', name], lock]),
    '# 6. Once every device sends through mailgate (not straight to the tenant), refuse Direct Send:',
    psLine('Set-OrganizationConfig', [['RejectDirectSend', true]]),
  ];
  if (id.certName) out.push(...certNote(id.certName));
  else out.push(...spfNote(config));
  return out;
}

function relayPlan(route: Route, config: Config, id: Identity, hasMxRoute: boolean): string[] {
  const name = `mailgate ${route.name} relay`;
  const head = `# Route "${route.name}" relays mail to outside domains through Exchange Online: OnPremises connector.`;
  if (id.certName) {
    return [
      head,
      psLine('New-InboundConnector', [['Name', name], ['ConnectorType', 'OnPremises'], ['SenderDomains', '*'], ['TlsSenderCertificateName', id.certName], ['RequireTls', true]]),
      '# Its certificate must differ from the one the MX route presents, or internet mail would match it too.',
      ...certNote(id.certName),
    ];
  }
  if (hasMxRoute) {
    return [
      head,
      '# Not printed: this route presents no client certificate, and an IP-matched OnPremises connector would',
      '# also match internet mail that mailgate passes on from the same IP with a spoofed accepted-domain',
      '# sender, making it Originating (trusted). Give this route its own certificate (--client-cert/--client-key).',
    ];
  }
  const tls = route.tls === 'required' ? ([['RequireTls', true]] as const) : [];
  return [head, psLine('New-InboundConnector', [['Name', name], ['ConnectorType', 'OnPremises'], ['SenderDomains', '*'], ['SenderIPAddresses', IP], ...tls]), ...spfNote(config)];
}

function certNote(cn: string): string[] {
  const domain = cn.replace(/^\*\./, '');
  const labels = domain.split('.');
  const parent = labels.length > 2 ? labels.slice(1).join('.') : domain;
  return [
    '',
    `# Note: the certificate's domain (${domain}) must be an accepted domain of the tenant, or use a`,
    `# *.domain name whose domain is one (e.g. -TlsSenderCertificateName *.${parent} when ${parent} is accepted),`,
    '# else Exchange Online refuses the mail with 550 5.7.51 (TenantInboundAttribution).',
  ];
}

function spfNote(config: Config): string[] {
  const domains = config.acceptedDomains.map((d) => d.domainName);
  return [
    '',
    `# The route presents no client certificate, so the tenant recognises mailgate by its public IPv4`,
    '# (static, not shared with other organisations). Add that IP to the SPF record of each sending domain:',
    ...(domains.length ? domains : ['<your domain>']).map((d) => `#   ${d}.  TXT  "v=spf1 ip4:${IP} include:spf.protection.outlook.com -all"`),
    `# (or add ip4:${IP} to the existing record, before its -all/~all).`,
  ];
}

/** The Exchange Online PowerShell for a route that delivers to the tenant. */
export function exchangeFrontScript(route: Route, config: Config, id: Identity): string {
  const out = ['# Exchange Online PowerShell (Connect-ExchangeOnline), for mailgate in front of Exchange Online:'];
  if (route.type !== 'smtp') {
    out.push(`# Warning: route "${route.name}" is of type ${route.type}; to deliver to Exchange Online use`);
    out.push('# --type smtp --host <tenant>.mail.protection.outlook.com --port 25 --tls required.');
  }
  const domains = mxDomains(route, config);
  // Mail for accepted domains leaving mailgate over SMTP shares the relay's source IP.
  const hasMxRoute = config.acceptedDomains.some((d) => (winningRoute(config.routes, d.domainName)?.type ?? 'pickup') !== 'pickup');
  if (domains.length) {
    out.push(...partnerPlan(route, config, id, domains));
    if (relaysOut(route, config)) {
      out.push(
        '',
        `# Route "${route.name}" also carries mail to outside domains. Exchange relays that only through an`,
        '# OnPremises connector, which must not match the MX path (it would trust a spoofed sender as the',
        "# tenant's own). Give the accepted domains their own route, keep this one for outside domains with a",
        '# different client certificate, and run route show --exchange for each:',
        `#   mailgate route add ${route.name}-in --type smtp --domain ${domains.join(',')} --host ${route.host ?? '<tenant>.mail.protection.outlook.com'} --tls required --client-cert … --client-key …`,
      );
    }
  } else if (relaysOut(route, config)) {
    out.push(...relayPlan(route, config, id, hasMxRoute));
  } else {
    out.push(`# Route "${route.name}" wins for no accepted domain and serves no outside domain; nothing to configure.`);
  }
  return out.join('\n') + '\n';
}
