/**
 * @module egress/windows-firewall
 * The egress policy as a PowerShell script of `New-NetFirewallRule` (NetSecurity module): one
 * outbound Block rule per address family, TCP to the blocked ports, from the internal ranges minus
 * the exempt sources (LocalAddress) to every address outside the internal ranges (RemoteAddress).
 * Windows Firewall has no "except" and a Block rule beats every Allow rule, so both lists are
 * computed here as explicit ranges; a family whose list would be empty gets no rule (an empty
 * list would mean "any"). Windows cannot answer with a reset: a blocked connect fails at once on
 * the host either way. Deployment by GPO: run it with `-PolicyStore 'domain\GPO name'` (the
 * rules are written into that GPO) and link the GPO to the clients' OUs, not the relay's.
 * Syntax: Microsoft Learn, New-NetFirewallRule, Remove-NetFirewallRule, Set-NetFirewallProfile
 * (NetSecurity module), "-PolicyStore" (GPO form `domain.fqdn\GPO_Friendly_Name`).
 * Touches: nothing (pure).
 */
import { complementRanges, netRange, rangeText, subtractRanges, type Family } from './addresses.ts';
import { exemptLine, exemptNets, headerLines, ofFamily, type EgressModel } from './model.ts';
import { hashComments, psQuote } from './text.ts';

const GROUP = 'mailgate egress';

function list(items: readonly string[]): string {
  return `@(${items.map(psQuote).join(', ')})`;
}

function rule(m: EgressModel, family: Family): string[] {
  const internal = ofFamily(m.internal, family).map(netRange);
  const local = subtractRanges(internal, ofFamily(exemptNets(m), family).map(netRange)).map(rangeText);
  const remote = complementRanges(internal, family).map(rangeText);
  if (!local.length || !remote.length) return [`# IPv${family}: no ${local.length ? 'outside' : 'internal source'} address left to block; no rule.`];
  return [
    'New-NetFirewallRule -PolicyStore $PolicyStore -Group ' + psQuote(GROUP) + ` -Name ${psQuote(`mailgate-egress-ipv${family}`)}` +
      ` -DisplayName ${psQuote(`mailgate: block direct SMTP (IPv${family})`)}` +
      ` -Description ${psQuote(`mailgate egress policy, configuration version ${m.version} (policy ${m.digest})`)}` +
      ` -Direction Outbound -Protocol TCP -RemotePort ${m.ports.join(',')} -Action Block -Profile Any` +
      ` -LocalAddress ${list(local)} -RemoteAddress ${list(remote)} | Out-Null`,
  ];
}

/** Render the PowerShell script. */
export function renderWindowsFirewall(m: EgressModel): string {
  return [
    ...hashComments(headerLines(m, 'windows-firewall')),
    ...hashComments(m.exempt.map(exemptLine)),
    '# Syntax: Microsoft Learn, New-NetFirewallRule (https://learn.microsoft.com/en-us/powershell/module/netsecurity/new-netfirewallrule), Set-NetFirewallProfile (NetSecurity module).',
    "# Local computer: .\\egress.ps1 (elevated). By GPO: .\\egress.ps1 -PolicyStore 'corp.example.com\\mailgate egress'",
    '# (create the GPO first with New-GPO; link it to the OUs of the clients, not the relay). Re-running replaces the rules.',
    "param([string]$PolicyStore = 'PersistentStore')",
    "$ErrorActionPreference = 'Stop'",
    `Get-NetFirewallRule -PolicyStore $PolicyStore -Group ${psQuote(GROUP)} -ErrorAction SilentlyContinue | Remove-NetFirewallRule`,
    ...rule(m, 4),
    ...rule(m, 6),
    ...(m.log ? ['Set-NetFirewallProfile -PolicyStore $PolicyStore -Profile Domain,Private,Public -LogBlocked True'] : []),
    '',
  ].join('\n');
}
