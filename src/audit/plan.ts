/**
 * @module audit/plan
 * The Direct Send migration plan: runs the readiness report (trace/reports direct-send: same
 * grouping by client IP + MAIL FROM, same classification and signals) over the trace — imported
 * data, gateway data, or one source — with the tenant's SPF record evaluated for every source IP,
 * and stages what to run (audit/plan-steps: connectors without restrictions → the monitoring rule
 * in audit mode → after a quiet period, restrictions and RejectDirectSend with rollbacks → checks).
 * It says what enabling RejectDirectSend would reject (messages/day, sources, how many likely
 * spoof, how many to investigate) and refuses to recommend it when the window holds no data (it
 * then says where the trace's data is) or no tenant domain is known.
 * Plus the Defender KQL of reference §6.3 narrowed with `SenderMailFromDomain in (…)` (P1, as
 * RejectDirectSend decides) and what is left once the connectors exist.
 * The trace is read through the given TraceStore's row primitives (this node's SQLite trace, or a
 * fleet's shared trace, where imported rows arrive through the outbox); the inbound volumes (audit tables) stay local.
 * Touches: reads the given TraceStore and audit_inbound_report; DNS through the
 * injected SpfAuthorizer.
 */
import { isIP } from 'node:net';
import type { Db } from '../core/sqlite.ts';
import type { SourceSpan, TraceStore } from '../trace/index.ts';
import { directSendReportFrom, emptyWindowNoteFrom, type DirectSendSource, type ReportRows, type ReportWindow, type SpfAuthorizer } from '../trace/reports/index.ts';
import { inboundVolumes, type InboundVolume } from './inbound-report.ts';
import { planStages, plannedConnectors, stepForSource, type PlanStage, type PlannedConnector, type RuleVariant } from './plan-steps.ts';
import { tenantPlanView } from './plan-tenant.ts';
import type { TenantConfig } from './tenant-model.ts';

export interface PlanOptions {
  window: ReportWindow;
  source?: string | undefined;
  spfCheck?: SpfAuthorizer | undefined;
  /** Tenant domains (default: the sender domains of the Direct Send sources). */
  tenantDomains?: readonly string[] | undefined;
  spfRecords?: readonly { domain: string; record: string; how: string }[] | undefined;
  rule?: RuleVariant | undefined;
  internal?: readonly string[] | undefined;
  /** Days the audit-mode rule runs before enforcement (default 14). */
  quietDays?: number | undefined;
  now?: number | undefined;
  /** The tenant's own configuration (audit import-config): covered sources, RejectDirectSend, rule lint. */
  tenant?: TenantConfig | undefined;
  /** The egress step (egress/ builds it from the policy in force; audit/ does not import egress/). */
  egress?: EgressPlanStep | undefined;
  /** The trace to read (ops/: ctx.trace, this node's SQLite one or a fleet's shared trace). Inbound volumes stay in `db`. */
  trace: PlanTrace;
}

/** After the migration: block direct SMTP egress (shell commands, not PowerShell). */
export interface EgressPlanStep {
  title: string;
  commands: string[];
  notes: string[];
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
  /** Trace rows of the source(s) inside the window. */
  rowsInWindow: number;
  tenantDomains: string[];
  spfRecords: { domain: string; record: string; how: string }[];
  summary: string[];
  sources: DirectSendSource[];
  inbound: InboundVolume[];
  connectors: PlannedConnector[];
  authorisedIps: string[];
  stages: PlanStage[];
  /** Why RejectDirectSend is not recommended, when it is not. */
  refusal?: string | undefined;
  /** What enabling RejectDirectSend after the plan would reject. */
  rejects: string;
  refused: DirectSendSource[];
  kql: { title: string; query: string }[];
  notes: string[];
  egress?: EgressPlanStep | undefined;
}

/** A KQL string literal (domains may come from sender addresses: escaped, one line). */
const kqlString = (v: string): string => `"${v.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/[\\"]/g, (c) => '\\' + c)}"`;

/** The Defender advanced hunting queries (reference §6.3, narrowed to the tenant's P1 domains). */
export function planKql(tenantDomains: readonly string[], authorisedIps: readonly string[], days: number): { title: string; query: string }[] {
  const inList = tenantDomains.map(kqlString).join(', ');
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

/** The trace reads of the plan. */
export type PlanTrace = ReportRows & Pick<TraceStore, 'rowCount'>;

const spanOf = (r: SourceSpan): DataSource => ({ source: r.source, rows: r.rows, first: new Date(r.first).toISOString(), last: new Date(r.last).toISOString() });

const fmtRate = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/** "after the plan, enabling RejectDirectSend would reject …": the sources left without a connector. */
function rejectsSentence(sources: readonly DirectSendSource[], days: number): string {
  const left = sources.filter((s) => stepForSource(s).kind !== 'connector');
  const n = left.reduce((a, s) => a + s.messages, 0);
  const spoof = left.filter((s) => s.classification === 'likely-spoof').length;
  const unknown = left.filter((s) => s.classification === 'unknown').length;
  const manual = left.filter((s) => stepForSource(s).kind === 'manual').length;
  return (
    `After stages 1-2, enabling RejectDirectSend would reject ${fmtRate(Math.round((n / days) * 10) / 10)} messages/day from ${left.length} source(s) of this window: ` +
    `${spoof} likely spoof (nothing to migrate: RejectDirectSend will stop it), ${unknown} to investigate first, ${manual} with a manual step (rejected unless that step is done).`
  );
}

/** Build the plan (module header). */
export async function buildPlan(db: Db, o: PlanOptions): Promise<Plan> {
  const { trace } = o;
  const report = await directSendReportFrom(trace, o.window, { source: o.source, spfCheck: o.spfCheck, internal: o.internal });
  const sources = report.sources;
  const tenantDomains = o.tenantDomains?.length ? [...o.tenantDomains] : [...new Set(sources.map((s) => s.senderDomain).filter(Boolean))].sort();
  const tenantView = tenantPlanView(o.tenant, sources, tenantDomains);
  const connectors = plannedConnectors(tenantView.uncovered);
  const authorisedIps = [...connectors.map((c) => c.ip), ...tenantView.coveredIps.filter((ip) => !connectors.some((c) => c.ip === ip))];
  const variant = o.rule ?? 'narrow';
  const days = Math.max(1, Math.ceil((o.window.until - o.window.since) / 86_400_000));
  const importName = o.source?.startsWith('import:') ? o.source.slice(7) : undefined;
  const data = (await trace.sourceSpans(o.source)).map(spanOf);
  const rowsInWindow = await trace.rowCount({ since: o.window.since, until: o.window.until, source: o.source });
  const refusal =
    rowsInWindow === 0
      ? `${(await emptyWindowNoteFrom(trace, o.window, o.source)) ?? 'no data in the window'}; so nothing shows which senders depend on Direct Send`
      : tenantDomains.length === 0
        ? 'no tenant domain is known (pass --tenant-domains)'
        : undefined;
  const rejects = rejectsSentence(tenantView.uncovered, report.days);
  const notes = [
    'Imported rows are message copies (one per network message id and recipient, as Exchange lists them), so "messages" counts copies.',
    'A message trace export (Get-MessageTraceV2) has no connector column: its inbound rows count as "no connector". Confirm a source with Get-MessageTraceV2 -MessageId … | Get-MessageTraceDetailV2, or import EmailEvents, before acting on it.',
    "A Partner connector's SenderIPAddresses applies only with RestrictDomainsToIPAddresses $true (reference §3.4): until stage 3 the connectors change no verdict, and the monitoring rule's IP exceptions cover the sources meanwhile. Restrict every connector of a domain at the same checkpoint (§3.3).",
    'Basic SMTP AUTH is disabled by default from the end of December 2026 (MC786329): this plan never turns it on for a mailbox; a device that must authenticate, and sends as its own mailbox from inside, relays through mailgate (an account on its submission listener) or uses OAuth.',
  ];
  if (o.window.note) notes.unshift(o.window.note);
  notes.unshift(...tenantView.notes);
  return {
    generatedAt: new Date(o.now ?? Date.now()).toISOString(),
    window: o.window,
    source: o.source ?? 'all sources',
    data,
    rowsInWindow,
    tenantDomains,
    spfRecords: [...(o.spfRecords ?? [])],
    summary: rowsInWindow === 0 ? [`RejectDirectSend not recommended: ${refusal ?? ''}`] : report.summary,
    sources,
    inbound: inboundVolumes(db, importName),
    connectors,
    authorisedIps,
    stages: planStages({ sources: tenantView.uncovered, connectors, variant, tenantDomains, quietDays: o.quietDays ?? 14, refusal, rejects, exceptIps: authorisedIps }),
    refusal,
    rejects,
    refused: tenantView.uncovered.filter((s) => stepForSource(s).kind !== 'connector'),
    kql: tenantDomains.length ? planKql(tenantDomains, authorisedIps, days) : [],
    notes,
    egress: o.egress,
  };
}
