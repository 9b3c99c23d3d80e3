/**
 * @module ops/reports
 * Every report over the trace (`mailgate report …` and `GET /api/v1/reports/…`): Exchange's
 * Inbound messages report, the Direct Send readiness report (with the organization's SPF record
 * evaluated for every source), stale connectors and allow entries, the sources gone after the
 * egress block, and read-only SQL hunting with saved queries. A window is `--since` clamped to
 * trace.retentionDays (the note says so), or an import's own time range over `import:NAME`.
 * Bad input (window, source, SPF record, hunt SQL) is `invalid`; the adapters format the Report.
 * Every read goes through ctx.trace: this node's SQLite trace, or on a fleet node the shared trace
 * (an import's window is the fleet's, whichever node imported it; a saved hunt is in the store's
 * own SQL, with the same rows).
 * Touches: the trace (through ctx.trace) and configuration store (read only); DNS for the live
 * SPF check.
 */
import { resolverFromSettings, type DnsResolveFn } from '../auth/index.ts';
import { createSpfAuthorizer } from '../audit/index.ts';
import { egressStep, egressStepSummary } from '../egress/index.ts';
import { HUNT_DEFAULT_LIMIT, HUNT_DEFAULT_TIMEOUT_MS, HuntRefused, SAVED_HUNTS, type HuntResult } from '../trace/hunt.ts';
import {
  directSendReportFrom,
  egressGoneReportFrom,
  inboundReportFrom,
  reportWindow,
  sourceWindowFrom,
  staleAllowReportFrom,
  type ConnectorTypeFilter,
  type InboundTlsFilter,
  type DirectSendSource,
  type Report,
  type ReportWindow,
  type SpfAuthorizer,
} from '../trace/reports/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

// The limits and defaults the adapters show in their help and schemas.
export { HUNT_DEFAULT_LIMIT, HUNT_DEFAULT_TIMEOUT_MS, HUNT_MAX_LIMIT, HUNT_MAX_QUERY } from '../trace/hunt.ts';
export { DEFAULT_INTERNAL_RANGES } from '../trace/reports/index.ts';

/** Seams of the reports that look the organization's SPF record up (tests pass a fake). */
export interface ReportSeams {
  /** Live SPF evaluation of the organization's record (default: through auth/'s caching resolver). */
  spfCheck?: SpfAuthorizer | undefined;
  /** The resolver SPF evaluation uses (default: the config's DNS through auth/'s caching resolver). */
  resolve?: DnsResolveFn | undefined;
}

interface Windowed {
  /** e.g. 7d, 90d or an ISO date. */
  since?: string | undefined;
  /** gateway, or import:NAME; default every source. */
  source?: string | undefined;
}

/** `source`: gateway or import:NAME. */
function checkSource(source: string | undefined): void {
  if (source !== undefined && source !== 'gateway' && !/^import:[A-Za-z0-9._-]+$/.test(source)) throw new OpsError('invalid', `--source must be gateway or import:NAME, not "${source}"`);
}

/**
 * The window of `since`, clamped to the retention in force (with a note). Over `import:NAME` it is
 * not clamped (imports are never pruned) and, without `since`, is the import's own time range in
 * ctx.trace (on a fleet, wherever the import was made).
 */
export async function windowOf(ctx: OpsContext, since: string | undefined, opts: { source?: string | undefined; defaultSince?: string; now?: number } = {}): Promise<ReportWindow> {
  const days = (await ctx.store.current())?.config.trace.retentionDays ?? 90;
  const now = opts.now ?? Date.now();
  const defaultSince = opts.defaultSince ?? '7d';
  try {
    return opts.source === undefined ? reportWindow(since ?? defaultSince, now, days) : await sourceWindowFrom(ctx.trace, { since, defaultSince, source: opts.source, now, retentionDays: days });
  } catch (e) {
    throw new OpsError('invalid', (e as Error).message);
  }
}

export const REPORT_TLS = ['none', '1.0', '1.1', '1.2', '1.3'] as const;
export const REPORT_CONNECTOR_TYPES = ['none', 'partner', 'onpremises'] as const;

export interface InboundInput extends Windowed {
  connectorType?: ConnectorTypeFilter | undefined;
  connector?: string | undefined;
  tls?: InboundTlsFilter | undefined;
  attribution?: string | undefined;
}

/** Exchange's Inbound messages report: per day and total by connector, connector type and TLS. */
export async function inbound(ctx: OpsContext, input: InboundInput, now = Date.now()): Promise<Report> {
  checkSource(input.source);
  const w = await windowOf(ctx, input.since, { source: input.source, defaultSince: '7d', now });
  const filter = { connectorType: input.connectorType, connector: input.connector, tls: input.tls, attribution: input.attribution, source: input.source };
  return inboundReportFrom(ctx.trace, w, filter);
}

export interface DirectSendInput extends Windowed {
  /** Internal ranges for classification (IPs or CIDRs, checked by the adapter). */
  internal?: string[] | undefined;
  /** The organization's SPF record, used for every sender domain instead of looking it up. */
  spf?: string | undefined;
}

/** Direct Send readiness: every anonymous accepted-domain sender, classified, with the command that migrates it. */
export async function directSend(ctx: OpsContext, input: DirectSendInput, seams: ReportSeams = {}, now = Date.now()): Promise<Report & { sources: DirectSendSource[] }> {
  checkSource(input.source);
  const w = await windowOf(ctx, input.since, { source: input.source, defaultSince: '30d', now });
  if (input.spf !== undefined && !/^v=spf1(\s|$)/i.test(input.spf.trim())) throw new OpsError('invalid', `--spf must be an SPF record starting with "v=spf1" (got "${input.spf}")`);
  // The organization's record evaluated through auth/'s resolver on the config's DNS servers (the audit plan's authorizer).
  const inForce = (await ctx.store.current())?.config;
  const live = (record?: string): SpfAuthorizer => createSpfAuthorizer({ resolve: seams.resolve ?? resolverFromSettings(inForce?.dns).resolve, record });
  const spfCheck = input.spf !== undefined ? live(input.spf.trim()) : (seams.spfCheck ?? live());
  const opts = { internal: input.internal, source: input.source, spfCheck };
  const r = await directSendReportFrom(ctx.trace, w, opts);
  const egress = inForce?.egress;
  if (egress) r.summary.push(...egressStepSummary(egressStep(egress)));
  return r;
}

/** Connectors, connector IPs and allow-list entries that matched no traffic in the window (`all`: every entry). */
export async function staleAllow(ctx: OpsContext, input: { since?: string | undefined; all?: boolean | undefined }, now = Date.now()): Promise<Report> {
  const cfg = (await ctx.store.current())?.config;
  if (!cfg) throw new OpsError('unavailable', 'no configuration in force');
  const w = await windowOf(ctx, input.since ?? '90d', { now });
  const entries = { connectors: cfg.inboundConnectors, allow: cfg.lists.allow };
  return staleAllowReportFrom(ctx.trace, w, entries, { includeUsed: input.all });
}

/** A date (YYYY-MM-DD, UTC) or an ISO time, as ms; `invalid` otherwise. */
export function parseBlockDate(v: string): number {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw new OpsError('invalid', `--block-date must be a date (YYYY-MM-DD, UTC) or an ISO time, got "${v}"`);
  return t;
}

/** After the egress block at `blockAt`: the sources that stopped sending, those still sending Direct Send (and with `all` the rest). */
export async function egressGone(ctx: OpsContext, input: { blockAt: number; since?: string | undefined; source?: string | undefined; all?: boolean | undefined }, now = Date.now()): Promise<Report> {
  if (input.source !== undefined && input.source !== 'gateway' && !/^import:.+/.test(input.source)) throw new OpsError('invalid', `--source must be gateway or import:NAME, not "${input.source}"`);
  const w = await windowOf(ctx, input.since ?? '30d', { now });
  try {
    const opts = { blockAt: input.blockAt, all: input.all, source: input.source };
    return await egressGoneReportFrom(ctx.trace, w, opts);
  } catch (e) {
    if (e instanceof RangeError) throw new OpsError('invalid', e.message);
    throw e;
  }
}

/** The saved hunts, by name; with a context, each in its trace store's SQL (PostgreSQL's on a fleet node). */
export function savedHunts(ctx?: Pick<OpsContext, 'trace'>): { name: string; description: string; sql: string }[] {
  return Object.entries(SAVED_HUNTS).map(([name, h]) => ({ name, description: h.description, sql: ctx?.trace.savedHuntText(name) ?? h.sql }));
}

export interface HuntInput {
  /** A single SELECT or WITH … SELECT over trace_message / trace_event. */
  query?: string | undefined;
  /** A saved hunt's name. */
  saved?: string | undefined;
  limit?: number | undefined;
  timeoutMs?: number | undefined;
}

/** A hunt the database refused while running it (the CLI exits 1 for it, not 2). */
export class HuntFailed extends OpsError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/** Read-only SQL over the trace (one SELECT; row and time limits; SQLite's in a child process), or a saved hunt. */
export async function hunt(ctx: OpsContext, input: HuntInput): Promise<HuntResult> {
  if ((input.query === undefined) === (input.saved === undefined)) throw new OpsError('invalid', 'give exactly one of --query, --saved or --list-saved');
  let sql = input.query ?? '';
  if (input.saved !== undefined) {
    const h = Object.hasOwn(SAVED_HUNTS, input.saved) ? SAVED_HUNTS[input.saved] : undefined;
    // The store's own text of the hunt (PostgreSQL's SQL on a fleet node), same rows.
    const text = h && ctx.trace.savedHuntText(input.saved);
    if (!text) throw new OpsError('not-found', `no saved hunt "${input.saved}" (have: ${Object.keys(SAVED_HUNTS).join(', ')})`);
    sql = text;
  }
  const limits = { limit: input.limit ?? HUNT_DEFAULT_LIMIT, timeoutMs: input.timeoutMs ?? HUNT_DEFAULT_TIMEOUT_MS };
  try {
    return await ctx.trace.hunt(sql, limits);
  } catch (e) {
    if (e instanceof HuntRefused) throw new OpsError('invalid', e.message);
    throw new HuntFailed(`query failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A report as one JSON document: title, window (ISO times), summary lines and each section's rows by name. */
export function reportDocument(r: Report): Record<string, unknown> {
  const { since, until, clamped, retentionDays } = r.window;
  const sections = Object.fromEntries(r.sections.map((s) => [s.name, s.rows.map((row) => Object.fromEntries(s.columns.map((c) => [c, row[c] ?? null])))]));
  return { title: r.title, window: { since: new Date(since).toISOString(), until: new Date(until).toISOString(), clamped, retentionDays }, summary: r.summary, ...sections };
}
