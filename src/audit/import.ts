/**
 * @module audit/import
 * `mailgate audit import`: streams each export file (audit/decode → audit/csv or
 * audit/json-records), recognises its kind by the header row (audit/kinds), maps rows
 * (audit/map-rows, audit/extended, audit/inbound-report) and writes message copies to the trace
 * with source `import:<name>` (audit/sink). Never drops a row silently: every malformed row is
 * counted and listed (file, line, reason); a file cut off mid-way keeps its whole rows and the
 * summary says where it stopped. A Windows PowerShell 5.1 `#TYPE …` first line is skipped.
 * Tenant domains: `--tenant-domains`, else inferred as the recipient domains of every inbound row
 * of this import (mail Exchange delivered inward is addressed to the tenant's accepted domains);
 * the attribution of the import's rows is reconciled with them once all files are read.
 * The import name defaults to the first file's base name without extension (letters, digits,
 * `.-_` kept).
 * Touches: the given files (read), the trace store and audit_inbound_report.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Db } from '../core/sqlite.ts';
import { CsvReader, type CsvRecord } from './csv.ts';
import { DecodeError, decodeFile, readHead, sniffEncoding, type Sniffed } from './decode.ts';
import { ExtendedAggregator } from './extended.ts';
import { mapInboundReport, storeInboundReport, type InboundReportRow } from './inbound-report.ts';
import { JsonRecordReader } from './json-records.ts';
import { detectKind, kindsForFlag, missingColumns, normHeader, unknownShapeMessage, type ExportKind, type KindFlag } from './kinds.ts';
import { mapEmailEvents, mapHistoricalSearch, mapMessageTrace, type Getter, type RowMapper } from './map-rows.ts';
import { domainOfAddress, type ImportedRow } from './model.ts';
import { Progress, type ProgressOut } from './progress.ts';
import { ImportSink, reconcileAttribution } from './sink.ts';

/** A file that cannot be imported at all (unknown shape, undecodable): the CLI turns it into a CliError. */
export class ImportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefused';
  }
}

export interface ImportOptions {
  kind?: KindFlag | undefined;
  tenantDomains?: readonly string[] | undefined;
  name?: string | undefined;
  progress?: ProgressOut | undefined;
  progressIntervalMs?: number | undefined;
  /** Malformed rows kept for the listing (all are counted); default 1000. */
  keepMalformed?: number | undefined;
}

export interface Malformed {
  file: string;
  line: number;
  reason: string;
}

export interface FileSummary {
  file: string;
  kind: ExportKind;
  encoding: string;
  /** Data rows read (records after the header). */
  rows: number;
  /** Message copies written (new) and already present. */
  inserted: number;
  duplicates: number;
  reportRows: number;
  malformed: number;
  notes: string[];
  /** Where a cut-off file stopped, if it did. */
  stoppedAt?: string | undefined;
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
}

/** The default import name: the first file's base name without extension. */
export function defaultImportName(file: string): string {
  return basename(file).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-') || 'import';
}

const MAPPERS: Partial<Record<ExportKind, RowMapper>> = {
  'message-trace': mapMessageTrace,
  'historical-search': mapHistoricalSearch,
  'email-events': mapEmailEvents,
};

interface Run {
  sink: ImportSink;
  inboundDomains: Map<string, number>;
  malformed: Malformed[];
  malformedCount: number;
  keep: number;
  rowsTotal: number;
}

function addRows(run: Run, rows: readonly ImportedRow[]): void {
  for (const r of rows) {
    if (r.direction === 'inbound' || r.direction === 'intra-org') {
      const d = domainOfAddress(r.recipient);
      if (d) run.inboundDomains.set(d, (run.inboundDomains.get(d) ?? 0) + 1);
    }
    run.sink.add(r);
  }
}

function bad(run: Run, fs: FileSummary, line: number, reason: string): void {
  fs.malformed++;
  run.malformedCount++;
  if (run.malformed.length < run.keep) run.malformed.push({ file: fs.file, line, reason });
}

/** Per-file state: the kind once the header is read, and what the rows go to. */
class FileImport {
  kind: ExportKind | undefined;
  private index = new Map<string, number>();
  private width = 0;
  private mapper: RowMapper | undefined;
  extended: ExtendedAggregator | undefined;
  report: InboundReportRow[] = [];
  private sawFirst = false;

  constructor(
    private readonly run: Run,
    readonly fs: FileSummary,
    private readonly allowed: readonly ExportKind[] | undefined,
  ) {}

  header(names: readonly string[]): void {
    const set = new Set(names.map(normHeader));
    let kind: ExportKind | undefined;
    if (this.allowed) {
      kind = this.allowed.find((k) => missingColumns(k, set).length === 0);
      if (!kind) throw new ImportRefused(unknownShapeMessage(this.fs.file, names, this.allowed[0]));
    } else kind = detectKind(set);
    if (!kind) throw new ImportRefused(unknownShapeMessage(this.fs.file, names));
    this.kind = kind;
    this.fs.kind = kind;
    names.forEach((n, i) => {
      const k = normHeader(n);
      if (!this.index.has(k)) this.index.set(k, i);
    });
    this.width = names.length;
    this.mapper = MAPPERS[kind];
    if (kind === 'extended-report') this.extended = new ExtendedAggregator();
  }

  csv(r: CsvRecord): void {
    if (!this.sawFirst) {
      this.sawFirst = true;
      if (/^#TYPE\b/i.test(r.fields[0]?.trim() ?? '')) {
        this.fs.notes.push(`skipped the Windows PowerShell line "${r.fields.join(',').slice(0, 60)}" (line ${r.line})`);
        this.sawFirst = false;
        return;
      }
      this.header(r.fields);
      return;
    }
    this.fs.rows++;
    this.run.rowsTotal++;
    if (r.problem) return bad(this.run, this.fs, r.line, r.problem);
    if (r.fields.length !== this.width) return bad(this.run, this.fs, r.line, `has ${r.fields.length} fields, the header has ${this.width}`);
    const f = r.fields;
    const idx = this.index;
    this.row((c) => {
      const i = idx.get(c);
      return i === undefined ? '' : (f[i] ?? '');
    }, r.line);
  }

  json(value: Record<string, unknown>, line: number): void {
    const m = new Map<string, string>();
    for (const [k, v] of Object.entries(value)) m.set(normHeader(k), v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
    if (!this.kind) this.header(Object.keys(value));
    this.fs.rows++;
    this.run.rowsTotal++;
    this.row((c) => m.get(c) ?? '', line);
  }

  private row(get: Getter, line: number): void {
    if (this.mapper) {
      const out = this.mapper(get);
      if (typeof out === 'string') bad(this.run, this.fs, line, out);
      else addRows(this.run, out);
    } else if (this.extended) {
      const err = this.extended.add(get);
      if (err) bad(this.run, this.fs, line, err);
    } else {
      const rr = mapInboundReport(get);
      if (typeof rr === 'string') bad(this.run, this.fs, line, rr);
      else this.report.push(rr);
    }
  }
}

async function sniff(file: string): Promise<Sniffed> {
  const head = await readHead(file).catch((e: NodeJS.ErrnoException) => {
    throw new ImportRefused(`${file}: cannot read: ${e.code ?? e.message}`);
  });
  if (head.length === 0) throw new ImportRefused(`${file}: empty file`);
  try {
    return sniffEncoding(head);
  } catch (e) {
    throw new ImportRefused(`${file}: ${(e as Error).message}`);
  }
}

async function importFile(db: Db, run: Run, file: string, opts: ImportOptions, progress: Progress, doneBytes: number, name: string): Promise<FileSummary> {
  const sniffed = await sniff(file);
  const fs: FileSummary = { file, kind: 'message-trace', encoding: sniffed.how, rows: 0, inserted: 0, duplicates: 0, reportRows: 0, malformed: 0, notes: [] };
  const fi = new FileImport(run, fs, opts.kind ? kindsForFlag(opts.kind) : undefined);
  const before = { ...run.sink.counts };
  const state = { cutMidCharacter: false };
  let csv: CsvReader | undefined;
  let json: JsonRecordReader | undefined;
  try {
    for await (const chunk of decodeFile(file, sniffed, state)) {
      if (!csv && !json) {
        const c = chunk.text.trimStart()[0];
        if (c === '[' || c === '{') json = new JsonRecordReader((r) => fi.json(r.value, r.line), (line, reason) => bad(run, fs, line, reason));
        else csv = new CsvReader((r) => fi.csv(r));
      }
      (csv ?? json)!.push(chunk.text);
      progress.tick(doneBytes + chunk.bytes, run.rowsTotal);
    }
  } catch (e) {
    if (e instanceof DecodeError) throw new ImportRefused(`${file}: ${e.message}`);
    throw e;
  }
  if (csv) {
    const end = csv.finish();
    if (end.openQuoteLine !== undefined) {
      fs.stoppedAt = `line ${end.openQuoteLine}: the file ends inside a quoted field that begins there; ${fs.rows} whole row(s) before it were read, the cut-off row was not imported`;
    }
  } else if (json) {
    const end = json.finish();
    if (end.openObjectLine !== undefined) fs.stoppedAt = `line ${end.openObjectLine}: the file ends inside a JSON object that begins there; ${fs.rows} whole record(s) before it were read`;
  }
  if (state.cutMidCharacter) fs.notes.push('the file ends in the middle of a character (cut off?)');
  if (!fi.kind) throw new ImportRefused(unknownShapeMessage(file, []));
  if (fi.extended) {
    const { rows, noRecipient } = fi.extended.finish();
    addRows(run, rows);
    for (const id of noRecipient) bad(run, fs, 0, `message ${id} has no recipient_address in any event`);
  }
  run.sink.flush();
  if (fi.report.length) fs.reportRows = storeInboundReport(db, name, fi.report);
  fs.inserted = run.sink.counts.inserted - before.inserted;
  fs.duplicates = run.sink.counts.duplicates - before.duplicates;
  return fs;
}

/** Import export files into the trace store (see the module header). */
export async function importFiles(db: Db, files: readonly string[], opts: ImportOptions = {}): Promise<ImportSummary> {
  if (files.length === 0) throw new ImportRefused('no file given');
  const name = opts.name ?? defaultImportName(files[0]!);
  const given = opts.tenantDomains?.map((d) => d.trim().toLowerCase()).filter(Boolean);
  const run: Run = {
    sink: new ImportSink(db, name, new Set(given ?? [])),
    inboundDomains: new Map(),
    malformed: [],
    malformedCount: 0,
    keep: opts.keepMalformed ?? 1000,
    rowsTotal: 0,
  };
  const sizes = files.map((f) => statSync(f, { throwIfNoEntry: false })?.size ?? Number.NaN);
  const missing = files.filter((_, i) => Number.isNaN(sizes[i]));
  if (missing.length) throw new ImportRefused(`no such file: ${missing.join(', ')}`);
  const progress = new Progress(opts.progress, sizes.reduce((a, b) => a + b, 0), { intervalMs: opts.progressIntervalMs });
  const summaries: FileSummary[] = [];
  let done = 0;
  try {
    for (const [i, f] of files.entries()) {
      summaries.push(await importFile(db, run, f, opts, progress, done, name));
      done += sizes[i] ?? 0;
    }
  } finally {
    run.sink.close();
    progress.done();
  }
  const inferred = [...run.inboundDomains.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const tenant = given ?? inferred.map(([d]) => d);
  const tenantHow = given
    ? 'given with --tenant-domains'
    : inferred.length
      ? `inferred from the recipient domains of inbound rows (${inferred.map(([d, n]) => `${d}: ${n}`).join(', ')}); pass --tenant-domains to set them`
      : 'none given and no inbound rows to infer them from';
  // Rows written in this run already carry the attribution for `given`; reconcile when the domains were
  // inferred, or when rows already present (a re-import) may have been attributed with other domains.
  const fresh = given !== undefined && run.sink.counts.duplicates === 0;
  const directSend = reconcileAttribution(db, name, tenant, fresh);
  return { name, source: `import:${name}`, files: summaries, malformed: run.malformed, malformedCount: run.malformedCount, tenantDomains: tenant, tenantHow, directSend };
}
