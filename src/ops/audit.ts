/**
 * @module ops/audit
 * The audit of an Exchange Online tenant from its own exports, with no gateway running: import
 * export files into the trace (source `import:<name>`; from paths, or streamed from an upload),
 * list and remove the imports, and build the staged Direct Send migration plan rendered as
 * Markdown, HTML or a stage-by-stage PowerShell script. `mailgate audit …` and
 * `/api/v1/audit/…` call these. An upload is written to a private temporary file under the data
 * directory as it arrives (the importer reads a file twice when a later row settles the date
 * order), never held in memory, and removed afterwards. The plan reads ctx.trace (on a fleet node
 * the fleet's shared trace, its import windows too); the audit tables (datasets, tenant
 * configuration) stay local.
 * Touches: the given files (read), <data>/uploads (temporary), the trace store and audit tables,
 * DNS (the tenant's SPF record) unless an SPF record is given.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { resolverFromSettings, type DnsResolveFn } from '../auth/index.ts';
import {
  buildPlan,
  createSpfAuthorizer,
  getDataset,
  importFiles,
  importNameOf,
  ImportRefused,
  listDatasets,
  removeDataset,
  renderHtml,
  renderMarkdown,
  renderScript,
  resolveTenant,
  tenantSpfRecords,
  type Dataset,
  type ImportOptions,
  type ImportSummary,
  type Plan,
  type RuleVariant,
  type TenantConfig,
} from '../audit/index.ts';
import { liveServePid } from '../core/serve-pid.ts';
import { openDatabase, type Db } from '../core/sqlite.ts';
import { egressStep } from '../egress/index.ts';
import { sourceWindowFrom } from '../trace/reports/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

// The import flags' values, for the adapters' help and schemas.
export { DATE_FORMATS, KIND_FLAGS } from '../audit/index.ts';

const NAME = /^[A-Za-z0-9._-]+$/;

/** What an import takes besides its files (the importer's options but progress, which the adapter sets). */
export type ImportInput = Pick<ImportOptions, 'kind' | 'tenantDomains' | 'name' | 'dateFormat' | 'keepMalformed' | 'progress'>;

function checkName(name: string | undefined, flag = '--name'): void {
  if (name !== undefined && !NAME.test(name)) throw new OpsError('invalid', `${flag} must be letters, digits, ".", "_" or "-" (got "${name}")`);
}

async function refusedAsInvalid<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ImportRefused) throw new OpsError('invalid', e.message);
    throw e;
  }
}

/** The PID of a `mailgate serve` running on this data directory, if one is. */
export function liveGateway(ctx: OpsContext): number | undefined {
  return liveServePid(ctx.dataDir);
}

/**
 * Import export files (paths) into the trace; an unknown shape or undecodable file is `invalid`.
 * Beside a running gateway the import goes in chunks (as an API upload does), so the gateway's
 * queue and trace writers wait for one chunk at most, never for the whole import.
 */
export async function importExports(ctx: OpsContext, files: readonly string[], input: ImportInput = {}): Promise<ImportSummary & { shippedToFleet?: number }> {
  checkName(input.name);
  const live = liveGateway(ctx) !== undefined;
  const summary = await refusedAsInvalid(() => importFiles(ctx.db, files, { ...input, chunkRows: live ? LIVE_IMPORT_CHUNK_ROWS : undefined }));
  // On a fleet node the rows reach the shared trace through the outbox: the running gateway's
  // shipper sends them; with none running, send them now so the fleet's reports see them.
  if (live || !ctx.shipTrace) return summary;
  return { ...summary, shippedToFleet: await ctx.shipTrace() };
}

/**
 * Bytes through, counted; past `limit` the rest is read and dropped (the sender gets a clean
 * answer, not a reset connection), and `over()` says so once the stream ends.
 */
function capped(limit: number): { stream: Transform; over(): boolean } {
  let seen = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      cb(null, seen > limit ? undefined : chunk);
    },
  });
  return { stream, over: () => seen > limit };
}

/** The upload exceeded its limit (the API answers 413). */
export class UploadTooLarge extends OpsError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/** Rows per transaction of an upload into a running gateway's store (ImportOptions.chunkRows). */
export const LIVE_IMPORT_CHUNK_ROWS = 5_000;

/**
 * Import one export streamed in (an HTTP upload): written as it arrives to a 0600 file in a
 * fresh 0700 directory under <data>/uploads, imported under `file` (its name in the summary and
 * the data set) in chunks of `chunkRows` rows, then removed whatever happens. More than
 * `limitBytes` is an UploadTooLarge.
 */
export async function importStream(ctx: OpsContext, body: Readable, input: ImportInput & { file: string; limitBytes: number; chunkRows?: number }): Promise<ImportSummary> {
  checkName(input.name);
  // A plain file name of its own (no directory, no leading dot: never `..`).
  const label = input.file.replace(/^.*[\\/]/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^\.+/, '') || 'upload';
  const dir = join(ctx.dataDir, 'uploads', randomBytes(8).toString('hex'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const path = join(dir, label);
    const cap = capped(input.limitBytes);
    await pipeline(body, cap.stream, createWriteStream(path, { mode: 0o600, flags: 'wx' }));
    if (cap.over()) throw new UploadTooLarge(`the upload is larger than ${input.limitBytes} bytes`);
    const { file: _file, limitBytes: _limit, chunkRows: _chunk, ...opts } = input;
    // Its own connection (its pragmas and statements stay off the shared one), committing every
    // LIVE_IMPORT_CHUNK_ROWS rows: the upload lands in the store of a running gateway, whose queue
    // and trace writers must wait for one chunk at most, never for the whole import.
    const own = openDatabase(join(ctx.dataDir, 'mailgate.db'));
    try {
      return await refusedAsInvalid(() => importFiles(own, [path], { ...opts, labels: [label], chunkRows: input.chunkRows ?? LIVE_IMPORT_CHUNK_ROWS }));
    } finally {
      own.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The imports (named data sets). On a fleet node, imports made on other nodes are in the shared
 * trace too: listed from it (rows and time span; their files and tenant are recorded where they
 * were imported), and the row counts of this node's own come from the shared trace.
 */
export async function listImports(ctx: OpsContext): Promise<Dataset[]> {
  const local = listDatasets(ctx.db);
  if (ctx.trace.kind !== 'postgres') return local;
  const spans = new Map((await ctx.trace.sourceSpans()).filter((x) => x.source.startsWith('import:')).map((x) => [x.source.slice('import:'.length), x]));
  // What the fleet's reports count: a local record whose rows left the shared trace shows 0.
  const out = local.map((d) => {
    const span = spans.get(d.name);
    return span ? { ...d, rows: span.rows, first: span.first, last: span.last } : { ...d, rows: 0, first: undefined, last: undefined };
  });
  for (const [name, span] of spans) {
    if (local.some((d) => d.name === name)) continue;
    out.push({ name, source: `import:${name}`, files: [], kinds: [], rows: span.rows, reportRows: 0, first: span.first, last: span.last, tenantDomains: [], tenantGiven: false, tenantHow: 'imported on another node', recorded: false });
  }
  return out;
}

/**
 * Delete an import: its message copies (on a fleet node, in the shared trace too), Inbound messages
 * report rows and record; `not-found` naming the imports there are.
 */
export async function removeImport(ctx: OpsContext, name: string): Promise<{ messages: number; reportRows: number }> {
  const gone = removeDataset(ctx.db, name);
  const fleetRows = ctx.trace.kind === 'postgres' ? await ctx.trace.removeImport(name) : undefined;
  if (!gone && !fleetRows) {
    const names = (await listImports(ctx)).map((d) => d.name);
    throw new OpsError('not-found', `no import named ${JSON.stringify(name)} (imports: ${names.join(', ') || 'none'})`);
  }
  return { messages: fleetRows ?? gone?.messages ?? 0, reportRows: gone?.reportRows ?? 0 };
}

/** The tenant configuration a command means (`audit import-config`), or none imported. */
export function tenantOf(db: Db, given: string | undefined, source?: string): TenantConfig | undefined {
  checkName(given, '--tenant');
  try {
    return resolveTenant(db, given, source);
  } catch (e) {
    throw new OpsError('not-found', (e as Error).message);
  }
}

/** The tenant's domains: its accepted domains, or none when Get-AcceptedDomain was not imported. */
export function tenantDomainsOf(t: TenantConfig | undefined): string[] {
  return (t?.acceptedDomains ?? []).map((d) => d.domainName);
}

export interface PlanInput {
  since?: string | undefined;
  source?: string | undefined;
  spf?: string | undefined;
  tenantDomains?: string[] | undefined;
  rule?: RuleVariant | undefined;
  quietDays?: number | undefined;
  tenant?: string | undefined;
}

/** The staged Direct Send migration plan (sources, classification, PowerShell stages, KQL). */
export async function auditPlan(ctx: OpsContext, input: PlanInput, seams: { resolve?: DnsResolveFn | undefined; now?: number | undefined } = {}): Promise<Plan> {
  if (input.spf !== undefined && !/^v=spf1(\s|$)/i.test(input.spf.trim())) throw new OpsError('invalid', `--spf must be an SPF record starting with "v=spf1" (got "${input.spf}")`);
  if (input.source !== undefined && input.source !== 'gateway' && !/^import:[A-Za-z0-9._-]+$/.test(input.source)) throw new OpsError('invalid', `--source must be gateway or import:NAME (got "${input.source}")`);
  const now = seams.now ?? Date.now();
  const config = (await ctx.store.current())?.config;
  let window;
  try {
    window = await sourceWindowFrom(ctx.trace, { since: input.since, defaultSince: '90d', source: input.source, now, retentionDays: config?.trace.retentionDays ?? 90 });
  } catch (e) {
    throw new OpsError('invalid', (e as Error).message);
  }
  const tenantConfig = tenantOf(ctx.db, input.tenant, input.source);
  const accepted = tenantDomainsOf(tenantConfig);
  const importName = importNameOf(input.source);
  const stored = importName === undefined ? undefined : getDataset(ctx.db, importName)?.tenantDomains;
  // Tenant domains: given, else the tenant's accepted domains (import-config), else those stored with the import, else found from the sources.
  const given = input.tenantDomains?.length ? input.tenantDomains.map((d) => d.toLowerCase()) : accepted.length ? accepted : stored?.length ? stored : undefined;
  // Tenant domains for SPF: given, else found by a first pass without SPF (the sources' sender domains).
  const tenant = given ?? (await buildPlan(ctx.db, { window, source: input.source, now, trace: ctx.trace })).tenantDomains;
  const spfOpts = { resolve: seams.resolve ?? resolverFromSettings(config?.dns).resolve, record: input.spf?.trim(), tenantDomains: tenant };
  return buildPlan(ctx.db, {
    window,
    source: input.source,
    tenantDomains: tenant,
    spfCheck: createSpfAuthorizer(spfOpts),
    spfRecords: await tenantSpfRecords(spfOpts, tenant),
    rule: input.rule ?? 'narrow',
    quietDays: input.quietDays ?? 14,
    now,
    tenant: tenantConfig,
    egress: config?.egress ? egressStep(config.egress) : undefined,
    trace: ctx.trace,
  });
}

export type PlanFormat = 'md' | 'html' | 'ps1';

/** The plan as Markdown, HTML or a PowerShell script that runs one stage per call. */
export function renderPlan(plan: Plan, format: PlanFormat): string {
  return format === 'html' ? renderHtml(plan) : format === 'ps1' ? renderScript(plan) : renderMarkdown(plan);
}
