/**
 * @module audit/import
 * `mailgate audit import`: streams each export file (audit/decode → audit/csv or
 * audit/json-records), recognises its kind by the header row (audit/kinds), maps rows
 * (audit/map-rows, audit/extended, audit/inbound-report) and writes message copies to the trace
 * with source `import:<name>` (audit/sink). Never drops a row silently: every malformed row is
 * counted and listed (file, line, reason); a file cut off mid-way keeps its whole rows and the
 * summary says where it stopped. A Windows PowerShell 5.1 `#TYPE …` first line is skipped; the
 * CSV delimiter and JSON envelope are found by audit/forms. A file whose rows waited for the date
 * order (audit/dates) is read a second time for just those rows once a later row settled it; one
 * that never settles is refused asking for `--date-format`.
 * Tenant domains: `--tenant-domains`, else those given at an earlier import under the same name,
 * else inferred as the recipient domains of every inbound row of this import (mail Exchange
 * delivered inward is addressed to the tenant's accepted domains); the attribution of the
 * import's rows is reconciled with them once all files are read. The import is then recorded as a
 * data set (audit/datasets: files with SHA-256, kinds, rows, first/last time, tenant domains).
 * The import name defaults to the first file's base name without extension (letters, digits,
 * `.-_` kept). The whole import is one transaction: its rows, report rows, attribution and data
 * set record commit together, or (a crash, a kill, an error) not at all; a store another process
 * writes meanwhile waits for it (busy timeout). Into an empty trace it is a bulk load (audit/sink).
 * Touches: the given files (read), the trace store, audit_inbound_report and audit_import.
 */
import { createHash, type Hash } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Db } from '../core/sqlite.ts';
import { ensureTraceSchema, leaveWalForBulkLoad } from '../trace/index.ts';
import { CsvReader } from './csv.ts';
import { recordDataset, getDataset, type Dataset } from './datasets.ts';
import { DateOrder, type DateFormatFlag } from './dates.ts';
import { DecodeError, decodeFile, readHead, sniffEncoding, type Sniffed } from './decode.ts';
import { bad, FileImport, ImportRefused, type FileSummary, type Malformed, type Run } from './file-import.ts';
import { sniffDelimiter } from './forms.ts';
import { ensureInboundReportSchema, storeInboundReport } from './inbound-report.ts';
import { JsonRecordReader } from './json-records.ts';
import { kindsForFlag, unknownShapeMessage, type KindFlag } from './kinds.ts';
import { Progress, type ProgressOut } from './progress.ts';
import { ImportSink, reconcileAttribution } from './sink.ts';

export { ImportRefused, type FileSummary, type Malformed } from './file-import.ts';

export interface ImportOptions {
  kind?: KindFlag | undefined;
  tenantDomains?: readonly string[] | undefined;
  name?: string | undefined;
  /** The order of numeric dates (default auto: detected across each file's rows). */
  dateFormat?: DateFormatFlag | undefined;
  progress?: ProgressOut | undefined;
  progressIntervalMs?: number | undefined;
  /** Malformed rows kept for the listing (all are counted); default 1000. */
  keepMalformed?: number | undefined;
  now?: (() => number) | undefined;
  /** How each file is named in the summary, refusals and data set (default its path; an upload spooled to a temp file passes its own name). */
  labels?: readonly string[] | undefined;
  /**
   * Commit every this many rows instead of one transaction for the whole import: for the store of
   * a running gateway, whose queue and trace writers then wait for one chunk at most. No write
   * lock is held while the files are read. An interrupted chunked import leaves the chunks it
   * committed (without a data set record); importing the same files again completes it, adding no
   * duplicate (import_key).
   */
  chunkRows?: number | undefined;
}

export interface ImportSummary {
  name: string;
  source: string;
  files: FileSummary[];
  malformed: Malformed[];
  malformedCount: number;
  tenantDomains: string[];
  tenantHow: string;
  directSend: number;
  /** The data set as recorded after this run. */
  dataset: Dataset;
}

/** The default import name: the first file's base name without extension. */
export function defaultImportName(file: string): string {
  return basename(file).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-') || 'import';
}

async function sniff(file: string, label: string): Promise<Sniffed> {
  const head = await readHead(file).catch((e: NodeJS.ErrnoException) => {
    throw new ImportRefused(`${label}: cannot read: ${e.code ?? e.message}`);
  });
  if (head.length === 0) throw new ImportRefused(`${label}: empty file`);
  try {
    return sniffEncoding(head);
  } catch (e) {
    throw new ImportRefused(`${label}: ${(e as Error).message}`);
  }
}

/** One read of a file through `fi` (CSV or JSON, decided by the first character). */
async function readPass(file: string, sniffed: Sniffed, fi: FileImport, run: Run, onChunk: (bytes: number) => void, hash?: Hash): Promise<void> {
  const fs = fi.fs;
  const state = { cutMidCharacter: false };
  let csv: CsvReader | undefined;
  let json: JsonRecordReader | undefined;
  try {
    for await (const chunk of decodeFile(file, sniffed, state, undefined, hash)) {
      if (!csv && !json) {
        const c = chunk.text.trimStart()[0];
        if (c === '[' || c === '{') json = new JsonRecordReader((r) => fi.json(r.value, r.line), (line, reason) => (hash ? bad(run, fs, line, reason) : undefined));
        else {
          const d = sniffDelimiter(chunk.text);
          if (d.how && hash) fs.notes.push(d.how);
          csv = new CsvReader((r) => fi.csv(r), d.delimiter);
        }
      }
      (csv ?? json)!.push(chunk.text);
      onChunk(chunk.bytes);
    }
  } catch (e) {
    if (e instanceof DecodeError) throw new ImportRefused(`${fs.file}: ${e.message}`);
    throw e;
  }
  const end = csv?.finish();
  const jsonEnd = json?.finish();
  if (!hash) return; // a replay: the first pass said all there is to say about the file
  if (end) {
    if (end.openQuoteLine !== undefined) {
      fs.stoppedAt = `line ${end.openQuoteLine}: the file ends inside a quoted field that begins there; ${fs.rows} whole row(s) before it were read, the cut-off row was not imported`;
    }
  } else if (jsonEnd) {
    if (jsonEnd.openObjectLine !== undefined) fs.stoppedAt = `line ${jsonEnd.openObjectLine}: the file ends inside a JSON object that begins there; ${fs.rows} whole record(s) before it were read`;
  }
  if (state.cutMidCharacter) fs.notes.push('the file ends in the middle of a character (cut off?)');
}

async function importFile(db: Db, run: Run, file: string, label: string, opts: ImportOptions, progress: Progress, doneBytes: number, name: string): Promise<FileSummary> {
  const sniffed = await sniff(file, label);
  const fs: FileSummary = { file: label, kind: 'message-trace', encoding: sniffed.how, sha256: '', rows: 0, inserted: 0, duplicates: 0, reportRows: 0, malformed: 0, notes: [] };
  const allowed = opts.kind ? kindsForFlag(opts.kind) : undefined;
  const dates = new DateOrder(opts.dateFormat ?? 'auto');
  const fi = new FileImport(run, fs, allowed, dates);
  const before = { ...run.sink.counts };
  const hash = createHash('sha256');
  await readPass(file, sniffed, fi, run, (bytes) => progress.tick(doneBytes + bytes, run.rowsTotal), hash);
  fs.sha256 = hash.digest('hex');
  if (!fi.kind) throw new ImportRefused(unknownShapeMessage(label, []));
  if (fi.waiting.length) {
    if (!dates.order) throw new ImportRefused(dates.refusal(label));
    // Rows read before a later row settled the order: read the file again for just those.
    fs.notes.push(`${fi.waiting.length} row(s) read before the date order was known were read again once it was`);
    const replay = new FileImport(run, fs, allowed, dates, fi.waiting);
    if (fi.extended) replay.extended = fi.extended;
    await readPass(file, sniffed, replay, run, () => undefined);
    fi.report.push(...replay.report);
  }
  if (dates.how && dates.numeric > 0) fs.notes.push(dates.how);
  fi.finishExtended();
  run.sink.endFile();
  if (fi.report.length) fs.reportRows = storeInboundReport(db, name, fi.report);
  fs.inserted = run.sink.counts.inserted - before.inserted;
  fs.duplicates = run.sink.counts.duplicates - before.duplicates;
  return fs;
}

/** Import export files into the trace store (see the module header). */
export async function importFiles(db: Db, files: readonly string[], opts: ImportOptions = {}): Promise<ImportSummary> {
  if (files.length === 0) throw new ImportRefused('no file given');
  const name = opts.name ?? defaultImportName(opts.labels?.[0] ?? files[0]!);
  const earlier = getDataset(db, name);
  const flagged = opts.tenantDomains?.map((d) => d.trim().toLowerCase()).filter(Boolean);
  const given = flagged ?? (earlier?.tenantGiven ? earlier.tenantDomains : undefined);
  const sizes = files.map((f) => statSync(f, { throwIfNoEntry: false })?.size ?? Number.NaN);
  const missing = files.filter((_, i) => Number.isNaN(sizes[i]));
  if (missing.length) throw new ImportRefused(`no such file: ${missing.map((f) => opts.labels?.[files.indexOf(f)] ?? f).join(', ')}`);
  // One transaction for the whole import: rows, report rows, attribution and the data set record
  // commit together, so an interrupted import (a crash, Ctrl-C, a kill) leaves nothing behind.
  // The tables are created first, in their own commits: a refused import still leaves them.
  ensureTraceSchema(db);
  ensureInboundReportSchema(db);
  if (opts.chunkRows !== undefined) return importChunked(db, files, sizes, opts, name, given, flagged, opts.chunkRows);
  const backToWal = leaveWalForBulkLoad(db);
  db.exec('BEGIN IMMEDIATE');
  try {
    const sink = new ImportSink(db, name, new Set(given ?? []));
    const summary = await importInTransaction(db, files, sizes, opts, name, given, flagged, sink);
    db.exec('COMMIT');
    sink.afterCommit();
    if (summary.refused) throw summary.refused;
    return summary.result;
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
    backToWal?.();
  }
}

/** importFiles in chunks of `chunkRows` rows, each its own transaction (ImportOptions.chunkRows). */
async function importChunked(
  db: Db, files: readonly string[], sizes: readonly number[], opts: ImportOptions, name: string,
  given: string[] | undefined, flagged: string[] | undefined, chunkRows: number,
): Promise<ImportSummary> {
  const sink = new ImportSink(db, name, new Set(given ?? []), Math.max(1, Math.floor(chunkRows)), true);
  try {
    const summary = await importInTransaction(db, files, sizes, opts, name, given, flagged, sink);
    if (summary.refused) throw summary.refused;
    return summary.result;
  } finally {
    sink.afterCommit();
  }
}

/** importFiles' work inside its transaction (or chunk by chunk): every file, then attribution and the data set record. */
async function importInTransaction(
  db: Db, files: readonly string[], sizes: readonly number[], opts: ImportOptions, name: string,
  given: string[] | undefined, flagged: string[] | undefined, sink: ImportSink,
): Promise<{ result: ImportSummary; refused?: ImportRefused | undefined }> {
  const run: Run = {
    sink,
    inboundDomains: new Map(),
    malformed: [],
    malformedCount: 0,
    keep: opts.keepMalformed ?? 1000,
    rowsTotal: 0,
  };
  const progress = new Progress(opts.progress, sizes.reduce((a, b) => a + b, 0), { intervalMs: opts.progressIntervalMs });
  const summaries: FileSummary[] = [];
  let done = 0;
  let refused: ImportRefused | undefined;
  try {
    for (const [i, f] of files.entries()) {
      summaries.push(await importFile(db, run, f, opts.labels?.[i] ?? f, opts, progress, done, name));
      done += sizes[i] ?? 0;
    }
  } catch (e) {
    // The files before the refused one are in the trace: record them as the data set, then refuse.
    if (!(e instanceof ImportRefused) || summaries.length === 0) throw e;
    refused = e;
  } finally {
    progress.done();
  }
  // A bulk load finds the duplicates among its files only now.
  run.sink.close().forEach((d, i) => {
    const fs = summaries[i];
    if (fs && d > 0) {
      fs.inserted -= d;
      fs.duplicates += d;
    }
  });
  const inferred = [...run.inboundDomains.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const tenant = given ?? inferred.map(([d]) => d);
  const tenantHow = flagged
    ? 'given with --tenant-domains'
    : given
      ? 'given with --tenant-domains at an earlier import under this name'
      : inferred.length
        ? `inferred from the recipient domains of inbound rows (${inferred.map(([d, n]) => `${d}: ${n}`).join(', ')}); pass --tenant-domains to set them`
        : 'none given and no inbound rows to infer them from';
  // Rows written in this run already carry the attribution for `given`; reconcile when the domains were
  // inferred, or when rows already present (a re-import) may have been attributed with other domains.
  const fresh = given !== undefined && run.sink.counts.duplicates === 0;
  const directSend = reconcileAttribution(db, name, tenant, fresh);
  const now = (opts.now ?? Date.now)();
  const dataset = recordDataset(db, {
    name,
    files: summaries.map((f) => ({ file: f.file, sha256: f.sha256, kind: f.kind, encoding: f.encoding, rows: f.rows, importedAt: new Date(now).toISOString() })),
    tenantDomains: tenant,
    tenantGiven: given !== undefined,
    tenantHow,
    now,
  });
  const result: ImportSummary = { name, source: `import:${name}`, files: summaries, malformed: run.malformed, malformedCount: run.malformedCount, tenantDomains: tenant, tenantHow, directSend, dataset };
  if (!refused) return { result };
  return { result, refused: new ImportRefused(`${refused.message}\n  (the file(s) before it were imported as ${`import:${name}`}: ${summaries.map((f) => f.file).join(', ')})`) };
}
