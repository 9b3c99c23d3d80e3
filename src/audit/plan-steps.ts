/**
 * @module audit/plan-steps
 * The migration plan's steps, safe by construction (reference §1.2-1.4, §3.3-3.4, §8.4):
 * - `stepForSource`: the one place a classified source becomes a step (a connector to create, a
 *   manual step for a third-party service or an IPv6 device, nothing for a likely spoof, an
 *   investigation for an unknown source). A check such as "an existing connector already covers
 *   this source" is one call here.
 * - `plannedConnectors`: one Partner connector per legitimate source IP (or certificate), created
 *   WITHOUT `-RestrictDomainsTo…` — a restriction locks the sender domains to that connector, and
 *   every other source of them would get 5.7.51 at once — with its later restriction, the
 *   restriction's rollback, and its removal.
 * - `planStages`: (1) the connectors, no restrictions; (2) the monitoring rule in `-Mode Audit`
 *   (logs what it would quarantine, holds nothing) with the queries that show what it caught;
 *   (3) after the stated quiet period, the restrictions and then `RejectDirectSend`, each command
 *   followed by its rollback; (4) checks and removing the monitoring rule. Each stage ends with a
 *   checkpoint. `Set-OrganizationConfig -RejectDirectSend $true` appears only in stage 3, after every
 *   legitimate source's step, and only when the plan does not refuse (no data, no tenant domain).
 * Touches: nothing (pure).
 */
import { isIP } from 'node:net';
import { plainIp, psArg, psString, type DirectSendSource } from '../trace/reports/index.ts';

export type RuleVariant = 'narrow' | 'broad';

export interface PlannedConnector {
  name: string;
  ip: string;
  domains: string[];
  certCn?: string | undefined;
  /** New-InboundConnector without any restriction. */
  command: string;
  /** Set-InboundConnector … $true (stage 3) and its rollback ($false). */
  restrict: string;
  unrestrict: string;
  /** Remove-InboundConnector (rollback of stage 1). */
  remove: string;
}

/** What the plan does for one source. */
export interface SourceStep {
  kind: 'connector' | 'manual' | 'none' | 'investigate';
  /** The connector this source needs (kind connector). */
  connector?: { name: string; ip: string; domain: string; certCn?: string | undefined } | undefined;
  /** The manual step or investigation, one line (kind manual, investigate). */
  text?: string | undefined;
}

/** A comma list for a PowerShell array parameter (each item bare when a plain token, else quoted). */
export function psList(items: readonly string[]): string {
  return items.map(psArg).join(',');
}

/** The step of one classified source (module header). */
export function stepForSource(s: DirectSendSource): SourceStep {
  switch (s.action) {
    case 'connector-certificate':
      return { kind: 'connector', connector: { name: `Direct Send ${s.certCn}`, ip: plainIp(s.clientIp), domain: s.senderDomain, certCn: s.certCn } };
    case 'connector-ip':
      return { kind: 'connector', connector: { name: `Direct Send ${plainIp(s.clientIp)}`, ip: plainIp(s.clientIp), domain: s.senderDomain } };
    case 'dmarc-aligned':
    case 'vendor-connector':
    case 'relay-via-mailgate':
      return { kind: 'manual', text: `${s.sender || '<>'} from ${s.clientIp}: ${s.powershell.replace(/^#\s*/, '')}`.replace(/[\r\n\u2028\u2029]+/g, ' ') };
    case 'investigate':
      return { kind: 'investigate', text: s.powershell };
    default:
      return { kind: 'none' };
  }
}

/** One connector per legitimate source IP (or certificate), with every tenant domain it sent as. */
export function plannedConnectors(sources: readonly DirectSendSource[]): PlannedConnector[] {
  const byName = new Map<string, { ip: string; domains: Set<string>; certCn?: string | undefined }>();
  for (const s of sources) {
    const c = stepForSource(s).connector;
    if (!c) continue;
    const g = byName.get(c.name) ?? { ip: c.ip, domains: new Set<string>(), certCn: c.certCn };
    if (c.domain) g.domains.add(c.domain);
    byName.set(c.name, g);
  }
  return [...byName.entries()].map(([name, g]) => {
    const domains = [...g.domains].sort();
    const dl = psList(domains.length ? domains : ['*']);
    const id = `Set-InboundConnector -Identity ${psString(name)}`;
    const remove = `Remove-InboundConnector -Identity ${psString(name)} -Confirm:$false`;
    if (g.certCn) {
      return {
        name, ip: g.ip, domains, certCn: g.certCn, remove,
        command: `New-InboundConnector -Name ${psString(name)} -ConnectorType Partner -SenderDomains ${dl} -TlsSenderCertificateName ${psArg(g.certCn)} -RequireTls $true -RestrictDomainsToCertificate $false`,
        restrict: `${id} -RestrictDomainsToCertificate $true`,
        unrestrict: `${id} -RestrictDomainsToCertificate $false`,
      };
    }
    return {
      name, ip: g.ip, domains, remove,
      command: `New-InboundConnector -Name ${psString(name)} -ConnectorType Partner -SenderDomains ${dl} -SenderIPAddresses ${g.ip} -RestrictDomainsToIPAddresses $false`,
      restrict: `${id} -RestrictDomainsToIPAddresses $true`,
      unrestrict: `${id} -RestrictDomainsToIPAddresses $false`,
    };
  });
}

export const RULE_NAME: Readonly<Record<RuleVariant, string>> = {
  narrow: 'Monitor Direct Send from unapproved sources',
  broad: 'Monitor mail not coming from known IPs',
};

/**
 * The monitoring rule, in audit mode (reference §8.4; the narrow form matches the envelope sender, as
 * RejectDirectSend does). No -StopRuleProcessing: a rule that only observes must not keep the
 * tenant's later rules from running.
 */
export function transportRule(variant: RuleVariant, tenantDomains: readonly string[], authorisedIps: readonly string[]): string {
  const except = `-ExceptIfHeaderContainsMessageHeader 'X-MS-Exchange-Organization-AuthAs' -ExceptIfHeaderContainsWords 'Internal'`;
  const v4 = authorisedIps.filter((ip) => isIP(ip) === 4);
  const ips = v4.length ? ` -ExceptIfSenderIpRanges ${psList(v4)}` : '';
  if (variant === 'broad') return `New-TransportRule -Name ${psString(RULE_NAME.broad)} -Mode Audit -Quarantine $true ${except}${ips} -Priority 0`;
  if (tenantDomains.length === 0) return '# no tenant domain known: pass --tenant-domains to build the rule (-SenderDomainIs)';
  return `New-TransportRule -Name ${psString(RULE_NAME.narrow)} -Mode Audit -FromScope NotInOrganization -SenderDomainIs ${psList(tenantDomains)} -SenderAddressLocation Envelope -Quarantine $true ${except}${ips} -Priority 0`;
}

/** A stage of the plan: its commands (each risky one followed by `# rollback: …`), its rollback, and the checkpoint before the next. */
export interface PlanStage {
  id: 'connectors' | 'monitor' | 'enforce' | 'after';
  title: string;
  intro: string[];
  commands: string[];
  /** Queries that show what the stage's rule caught (monitor stage). */
  queries: string[];
  /** Undo this stage, in order. */
  rollback: string[];
  checkpoint: string[];
}

export interface StageInput {
  sources: readonly DirectSendSource[];
  connectors: readonly PlannedConnector[];
  variant: RuleVariant;
  tenantDomains: readonly string[];
  quietDays: number;
  /** Why RejectDirectSend is not recommended (no data, no tenant domain), or undefined. */
  refusal?: string | undefined;
  /** What enabling it would reject, one sentence. */
  rejects: string;
  /** IPs the monitoring rule excepts (planned connectors and those the tenant's connectors already cover); default: the planned connectors'. */
  exceptIps?: readonly string[] | undefined;
}

const ROLLBACK = '# rollback: ';

/** The four stages (module header). */
export function planStages(p: StageInput): PlanStage[] {
  const steps = p.sources.map((s) => ({ s, step: stepForSource(s) }));
  const manual = steps.filter((x) => x.step.kind === 'manual').map((x) => `# manual: ${x.step.text ?? ''}`);
  const investigate = steps.filter((x) => x.step.kind === 'investigate');
  const ruleName = RULE_NAME[p.variant];
  const rule = transportRule(p.variant, p.tenantDomains, p.exceptIps ?? p.connectors.map((c) => c.ip));
  const notify = `you@${p.tenantDomains[0] ?? 'contoso.com'}`;
  const stage1: PlanStage = {
    id: 'connectors',
    title: 'Connectors for the legitimate sources, without restrictions',
    intro: ['Creates a Partner connector per legitimate source with no -RestrictDomainsTo… setting: nothing is rejected by them yet. The manual steps (third-party services, IPv6 devices) belong to this stage too.'],
    commands: p.connectors.length || manual.length ? [...p.connectors.map((c) => c.command), ...manual] : ['# no legitimate Direct Send source found: no connector needed'],
    queries: [],
    rollback: p.connectors.map((c) => c.remove),
    checkpoint: [
      'Get-InboundConnector | Format-Table Name,SenderIPAddresses,TlsSenderCertificateName,RestrictDomainsToIPAddresses,RestrictDomainsToCertificate shows every connector above, with both RestrictDomainsTo… False.',
      ...(manual.length ? ['Every manual step above is done (the service sends with its own return-path and DKIM-signs as your domain, or its documented connector exists).'] : []),
    ],
  };
  const stage2: PlanStage = {
    id: 'monitor',
    title: 'Monitoring rule in audit mode',
    intro: [`-Mode Audit: the rule only logs what it would quarantine; nothing is held or changed. Keep it for the quiet period (at least ${p.quietDays} days, longer if some senders run monthly).`],
    commands: p.variant === 'broad' ? ['# add your MX service (third-party filter) and on-premises IPs to -ExceptIfSenderIpRanges before running this', rule] : [rule],
    queries: [
      `$NotifyAddress = ${psString(notify)}  # who receives the report`,
      `Start-HistoricalSearch -ReportTitle ${psString('Direct Send monitoring')} -ReportType TransportRule -TransportRule ${psString(ruleName)} -StartDate (Get-Date).AddDays(-${p.quietDays}) -EndDate (Get-Date) -NotifyAddress $NotifyAddress`,
      `Get-HistoricalSearch | Where-Object ReportTitle -eq ${psString('Direct Send monitoring')}`,
    ],
    rollback: [`Remove-TransportRule -Identity ${psString(ruleName)} -Confirm:$false`],
    checkpoint: [
      `Quiet period over: ${p.quietDays} days or more since stage 2, and the rule's hits (historical search above, or the KQL below) show no legitimate sender; a legitimate one gets its stage-1 step first.`,
      ...(investigate.length ? [`The ${investigate.length} source(s) to investigate are settled: a legitimate one has its stage-1 step.`] : []),
    ],
  };
  const enforce: string[] = [];
  for (const c of p.connectors) enforce.push(c.restrict, ROLLBACK + c.unrestrict);
  if (p.refusal) enforce.push(`# RejectDirectSend is not recommended: ${p.refusal}`);
  else enforce.push('Set-OrganizationConfig -RejectDirectSend $true', ROLLBACK + 'Set-OrganizationConfig -RejectDirectSend $false');
  const stage3: PlanStage = {
    id: 'enforce',
    title: `After the quiet period (${p.quietDays} days): restrictions, then RejectDirectSend`,
    intro: [
      'Restrict every connector of a domain together (a restriction locks the domain to its connectors: 5.7.51 for any other source), then turn on RejectDirectSend (changes take up to 30 minutes).',
      p.refusal ? `Not recommending RejectDirectSend: ${p.refusal}.` : p.rejects,
    ],
    commands: enforce,
    queries: [],
    rollback: [...(p.refusal ? [] : ['Set-OrganizationConfig -RejectDirectSend $false']), ...p.connectors.map((c) => c.unrestrict)],
    checkpoint: ['Get-OrganizationConfig | Select RejectDirectSend', 'Get-InboundConnector | Format-Table Name,RestrictDomainsToIPAddresses,RestrictDomainsToCertificate'],
  };
  const stage4: PlanStage = {
    id: 'after',
    title: 'Once enforcement is confirmed',
    intro: ['Remove the monitoring rule when you no longer need its log.'],
    commands: [`Remove-TransportRule -Identity ${psString(ruleName)} -Confirm:$false`, ROLLBACK + rule],
    queries: [],
    rollback: [rule],
    checkpoint: [],
  };
  return [stage1, stage2, stage3, stage4];
}
