/**
 * @module audit/plan
 * The Direct Send migration plan: runs the readiness report (trace/reports direct-send: same
 * grouping by client IP + MAIL FROM, same classification) over the trace — imported data, gateway
 * data, or one source — with the tenant's SPF record evaluated for every source IP, and turns it
 * into the PowerShell to run, in order (reference §1.4, §3.3, §8.4):
 *  1. `New-InboundConnector … -ConnectorType Partner -SenderDomains … -SenderIPAddresses …
 *     -RestrictDomainsToIPAddresses $true` per legitimate source IP (device-or-app and
 *     third-party-service; certificate form when the source presented a verified certificate;
 *     a comment for IPv6, which SenderIPAddresses does not take);
 *  2. the quarantine transport rule for the monitoring period: `narrow` (default; FromScope
 *     NotInOrganization + SenderDomainIs the tenant domains — safe when MX points at Exchange
 *     Online) or `broad` (Microsoft's §8.4 rule; everything not from the listed IPs, for tenants
 *     whose MX points at a third-party service or on-premises), both excepting the authorised IPs
 *     and mail attributed Internal;
 *  3. `Set-OrganizationConfig -RejectDirectSend $true`; 4. `Get-OrganizationConfig | Select RejectDirectSend`.
 * Plus the Defender KQL of reference §6.3 narrowed with `SenderMailFromDomain in (…)` (P1, as
 * RejectDirectSend decides) and what is left once the connectors exist.
 * Touches: reads trace_message and audit_inbound_report; DNS through the injected SpfAuthorizer.
 */
import { isIP } from 'node:net';
import type { Db } from '../core/sqlite.ts';
import { traceReady } from '../trace/index.ts';
import { directSendReport, plainIp, type DirectSendSource, type ReportWindow, type SpfAuthorizer } from '../trace/reports/index.ts';
import { inboundVolumes, type InboundVolume } from './inbound-report.ts';

export type RuleVariant = 'narrow' | 'broad';

export interface PlanOptions {
  window: ReportWindow;
  source?: string | undefined;
  spfCheck?: SpfAuthorizer | undefined;
  /** Tenant domains (default: the sender domains of the Direct Send sources). */
  tenantDomains?: readonly string[] | undefined;
  spfRecords?: readonly { domain: string; record: string; how: string }[] | undefined;
  rule?: RuleVariant | undefined;
  internal?: readonly string[] | undefined;
  now?: number | undefined;
  /** The egress step (egress/ builds it from the policy in force; audit/ does not import egress/). */
  egress?: EgressPlanStep | undefined;
}

/** After the migration: block direct SMTP egress (shell commands, not PowerShell). */
export interface EgressPlanStep {
  title: string;
  commands: string[];
  notes: string[];
}

export interface PlannedConnector {
  name: string;
  ip: string;
  domains: string[];
  certCn?: string | undefined;
  command: string;
}

export interface PlanStep {
  title: string;
  commands: string[];
}

export interface DataSource {
  source: string;
  rows: number;
  first: string;
  last: string;
}

export interface Plan {
  generatedAt: string;
  window: ReportWindow;
  source: string;
  data: DataSource[];
  tenantDomains: string[];
  spfRecords: { domain: string; record: string; how: string }[];
  summary: string[];
  sources: DirectSendSource[];
  inbound: InboundVolume[];
  connectors: PlannedConnector[];
  authorisedIps: string[];
  steps: PlanStep[];
  refused: DirectSendSource[];
  kql: { title: string; query: string }[];
  notes: string[];
  egress?: EgressPlanStep | undefined;
}

const LEGITIMATE = new Set(['device-or-app', 'third-party-service']);

/** PowerShell single-quoted string. */
function psq(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A comma list for a PowerShell array parameter (bare when every item is a plain token). */
function psList(items: readonly string[]): string {
  return items.map((i) => (/^[A-Za-z0-9.:*/_-]+$/.test(i) ? i : psq(i))).join(',');
}

/** One connector per legitimate source IP, with every tenant domain it sent as. */
export function plannedConnectors(sources: readonly DirectSendSource[]): PlannedConnector[] {
  const byIp = new Map<string, { domains: Set<string>; certCn?: string | undefined }>();
  for (const s of sources) {
    if (!LEGITIMATE.has(s.classification)) continue;
    const ip = plainIp(s.clientIp);
    const g = byIp.get(ip) ?? { domains: new Set<string>() };
    if (s.senderDomain) g.domains.add(s.senderDomain);
    if (s.certCn) g.certCn = s.certCn;
    byIp.set(ip, g);
  }
  return [...byIp.entries()].map(([ip, g]) => {
    const domains = [...g.domains].sort();
    const dl = psList(domains.length ? domains : ['*']);
    if (g.certCn) {
      const name = `Direct Send ${g.certCn}`;
      return { name, ip, domains, certCn: g.certCn, command: `New-InboundConnector -Name "${name}" -ConnectorType Partner -SenderDomains ${dl} -TlsSenderCertificateName ${g.certCn} -RestrictDomainsToCertificate $true -RequireTls $true` };
    }
    const name = `Direct Send ${ip}`;
    const command =
      isIP(ip) === 6
        ? `# ${name}: Exchange Online's SenderIPAddresses takes IPv4 only; give this source a certificate connector (-TlsSenderCertificateName … -RestrictDomainsToCertificate $true) or move it to SMTP AUTH`
        : `New-InboundConnector -Name "${name}" -ConnectorType Partner -SenderDomains ${dl} -SenderIPAddresses ${ip} -RestrictDomainsToIPAddresses $true`;
    return { name, ip, domains, command };
  });
}

/** The monitoring-period transport rule (module header). */
export function transportRule(variant: RuleVariant, tenantDomains: readonly string[], authorisedIps: readonly string[]): string {
  const except = `-ExceptIfHeaderContainsMessageHeader 'X-MS-Exchange-Organization-AuthAs' -ExceptIfHeaderContainsWords 'Internal'`;
  const ips = authorisedIps.length ? ` -ExceptIfSenderIpRanges ${psList(authorisedIps)}` : '';
  if (variant === 'broad') {
    return `New-TransportRule -Name "Redirect to quarantine if not coming from known IPs" -Quarantine $true ${except}${ips} -StopRuleProcessing $true -Priority 0`;
  }
  if (tenantDomains.length === 0) return '# no tenant domain known: pass --tenant-domains to build the rule (-SenderDomainIs)';
  return `New-TransportRule -Name "Quarantine Direct Send from unapproved sources" -FromScope NotInOrganization -SenderDomainIs ${psList(tenantDomains)} -Quarantine $true ${except}${ips} -StopRuleProcessing $true -Priority 0`;
}

/** The PowerShell steps, in the order to run them. */
export function planSteps(connectors: readonly PlannedConnector[], variant: RuleVariant, tenantDomains: readonly string[], authorisedIps: readonly string[]): PlanStep[] {
  const rule = [transportRule(variant, tenantDomains, authorisedIps)];
  if (variant === 'broad') rule.unshift('# add your MX service (third-party filter) and on-premises IPs to -ExceptIfSenderIpRanges before running this');
  return [
    { title: 'Partner inbound connectors for the legitimate sources', commands: connectors.length ? connectors.map((c) => c.command) : ['# no legitimate Direct Send source found: no connector needed'] },
    { title: 'Quarantine mail from unapproved sources for a monitoring period', commands: rule },
    { title: 'Turn on RejectDirectSend', commands: ['Set-OrganizationConfig -RejectDirectSend $true'] },
    { title: 'Check', commands: ['Get-OrganizationConfig | Select RejectDirectSend'] },
  ];
}

/** Every PowerShell line of the plan, in order, with a `# n. title` comment before each step. */
export function planScript(steps: readonly PlanStep[]): string[] {
  return steps.flatMap((s, i) => [`# ${i + 1}. ${s.title}`, ...s.commands]);
}

/** The Defender advanced hunting queries (reference §6.3, narrowed to the tenant's P1 domains). */
export function planKql(tenantDomains: readonly string[], authorisedIps: readonly string[], days: number): { title: string; query: string }[] {
  const inList = tenantDomains.map((d) => `"${d}"`).join(', ');
  const ago = `ago(${days}d)`;
  const base = [`EmailEvents`, `| where Timestamp > ${ago}`, `| where EmailDirection == "Inbound" and Connectors == "" and isnotempty(SenderIPv4)`, `| where SenderMailFromDomain in (${inList})`];
  const v4 = authorisedIps.filter((ip) => isIP(ip) === 4).map((ip) => `"${ip}"`).join(', ');
  const out = [
    { title: 'Direct Send messages (no connector, P1 domain is a tenant domain)', query: [...base, '| project Timestamp, RecipientEmailAddress, SenderMailFromAddress, Subject, NetworkMessageId, EmailDirection, Connectors, SenderIPv4'].join('\n') },
    { title: 'Direct Send sources by IP', query: [...base, '| summarize count() by SenderIPv4'].join('\n') },
    {
      title: 'Direct Send that failed SPF and DMARC (likely spoofing)',
      query: [...base, '| extend Auth = parse_json(AuthenticationDetails)', '| where tostring(Auth.SPF) in ("fail", "softfail") and tostring(Auth.DMARC) == "fail"', '| summarize count() by SenderIPv4, SenderMailFromAddress'].join('\n'),
    },
  ];
  if (v4) out.push({ title: 'What the transport rule and RejectDirectSend would still stop once the connectors exist', query: [...base, `| where SenderIPv4 !in (${v4})`, '| summarize count() by SenderIPv4, SenderMailFromAddress'].join('\n') });
  return out;
}

function dataSources(db: Db, source: string | undefined): DataSource[] {
  if (!traceReady(db)) return [];
  const where = source ? 'WHERE source = ?' : '';
  const rows = db
    .prepare(`SELECT coalesce(source, 'gateway') AS source, count(*) AS n, min(received_at) AS a, max(received_at) AS b FROM trace_message ${where} GROUP BY 1 ORDER BY 1`)
    .all(...(source ? [source] : [])) as { source: string; n: number; a: number; b: number }[];
  return rows.map((r) => ({ source: r.source, rows: r.n, first: new Date(r.a).toISOString(), last: new Date(r.b).toISOString() }));
}

/** Build the plan (module header). */
export async function buildPlan(db: Db, o: PlanOptions): Promise<Plan> {
  const report = await directSendReport(db, o.window, { source: o.source, spfCheck: o.spfCheck, internal: o.internal });
  const sources = report.sources;
  const tenantDomains = o.tenantDomains?.length ? [...o.tenantDomains] : [...new Set(sources.map((s) => s.senderDomain).filter(Boolean))].sort();
  const connectors = plannedConnectors(sources);
  const authorisedIps = connectors.map((c) => c.ip);
  const variant = o.rule ?? 'narrow';
  const days = Math.max(1, Math.ceil((o.window.until - o.window.since) / 86_400_000));
  const importName = o.source?.startsWith('import:') ? o.source.slice(7) : undefined;
  const notes = [
    'Imported rows are message copies (one per network message id and recipient, as Exchange lists them), so "messages" counts copies.',
    'A message trace export (Get-MessageTraceV2) has no connector column: its inbound rows count as "no connector". Confirm a source with Get-MessageTraceV2 -MessageId … | Get-MessageTraceDetailV2, or import EmailEvents, before acting on it.',
    'A Partner connector with -RestrictDomainsToIPAddresses locks its sender domains to its IPs: create the connectors of every legitimate source of a domain together (reference §3.3).',
    'Keep the transport rule through the monitoring period and review the quarantine (Get-QuarantineMessage) before turning on RejectDirectSend; remove the rule (Remove-TransportRule) once RejectDirectSend is on.',
  ];
  if (o.window.note) notes.unshift(o.window.note);
  return {
    generatedAt: new Date(o.now ?? Date.now()).toISOString(),
    window: o.window,
    source: o.source ?? 'all sources',
    data: dataSources(db, o.source),
    tenantDomains,
    spfRecords: [...(o.spfRecords ?? [])],
    summary: report.summary,
    sources,
    inbound: inboundVolumes(db, importName),
    connectors,
    authorisedIps,
    steps: planSteps(connectors, variant, tenantDomains, authorisedIps),
    refused: sources.filter((s) => !LEGITIMATE.has(s.classification)),
    kql: tenantDomains.length ? planKql(tenantDomains, authorisedIps, days) : [],
    notes,
    egress: o.egress,
  };
}
