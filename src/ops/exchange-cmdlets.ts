/**
 * @module ops/exchange-cmdlets
 * The Exchange Online PowerShell cmdlets and parameters mailgate prints, as a typed table, and
 * `psLine()` which builds a command line from it (a misspelt parameter does not compile).
 * Touches: nothing (pure).
 * Exchange docs: PS-NIC/PS-SIC (New-/Set-InboundConnector, reference §3.4), PS-SOC
 * (Set-OrganizationConfig -RejectDirectSend, reference §1.3), PS-MTV2/PS-MTDV2 (message trace,
 * reference §1.4 and §5.2). `test/docs`-style checks compare this table with the reference.
 */

const INBOUND_CONNECTOR = [
  'Name', 'ConnectorType', 'SenderDomains', 'SenderIPAddresses', 'TlsSenderCertificateName', 'RequireTls',
  'RestrictDomainsToIPAddresses', 'RestrictDomainsToCertificate', 'EFSkipIPs', 'EFSkipLastIP', 'EFUsers', 'Comment', 'Enabled',
] as const;

/** Cmdlet → its parameters mailgate may print (reference §3.4 table; `Identity` is every Set-*'s selector). */
export const EXCHANGE_CMDLETS = {
  'New-InboundConnector': INBOUND_CONNECTOR,
  'Set-InboundConnector': ['Identity', ...INBOUND_CONNECTOR],
  'Set-OrganizationConfig': ['RejectDirectSend'],
  'Get-OrganizationConfig': [],
  'Get-MessageTraceV2': ['MessageId', 'RecipientAddress', 'SenderAddress', 'FromIP', 'StartDate', 'EndDate'],
  'Get-MessageTraceDetailV2': [],
} as const;

export type Cmdlet = keyof typeof EXCHANGE_CMDLETS;
export type ParameterOf<C extends Cmdlet> = (typeof EXCHANGE_CMDLETS)[C][number];

/** A PowerShell value: quoted when it has spaces, `$true`/`$false` for booleans; `<placeholders>` as they are. */
function psValue(v: string | boolean): string {
  if (typeof v === 'boolean') return v ? '$true' : '$false';
  if (/^<[^<>]+>$/.test(v)) return v;
  return /[\s"']/.test(v) ? `"${v.replace(/"/g, '`"')}"` : v;
}

/** One command line: `Cmdlet -P1 v1 -P2 v2` in the order given. */
export function psLine<C extends Cmdlet>(cmdlet: C, params: ReadonlyArray<readonly [ParameterOf<C>, string | boolean]> = []): string {
  return [cmdlet, ...params.map(([p, v]) => `-${p} ${psValue(v)}`)].join(' ');
}
