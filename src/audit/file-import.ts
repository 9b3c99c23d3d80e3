/**
 * @module audit/file-import
 * One export file's records on their way to the trace: the header row decides the kind
 * (audit/kinds, with the column aliases of other spellings), JSON envelopes are unwrapped and
 * sidecar keys dropped (audit/forms), each row's date is checked against the file's date order
 * (audit/dates) and mapped (audit/map-rows, audit/extended, audit/change-optics,
 * audit/inbound-report). Rows whose date is ambiguous while the order is unknown wait: their
 * ordinals are kept and audit/import reads the file again for them once the order is settled
 * (a replay FileImport maps only those ordinals), so memory stays flat however many rows wait.
 * Every malformed row is counted and listed (file, line, reason).
 * Touches: nothing itself (rows go to the run's ImportSink).
 */
import { mapChangeOptics } from './change-optics.ts';
import type { CsvRecord } from './csv.ts';
import { DateOrder } from './dates.ts';
import { ExtendedAggregator } from './extended.ts';
import { isSidecarKey, unwrapJson } from './forms.ts';
import { mapInboundReport, type InboundReportRow } from './inbound-report.ts';
import { COLUMN_ALIASES, detectKind, kindSpec, missingColumns, normHeader, unknownShapeMessage, type ExportKind } from './kinds.ts';
import { mapEmailEvents, mapHistoricalSearch, mapMessageTrace, type Getter, type RowMapper } from './map-rows.ts';
import { domainOfAddress, type ImportedRow } from './model.ts';
import type { ImportSink } from './sink.ts';

/** A file that cannot be imported at all (unknown shape, undecodable, ambiguous dates): the CLI turns it into a CliError. */
export class ImportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefused';
  }
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
  /** SHA-256 of the file's bytes (hex). */
  sha256: string;
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

/** State shared by the files of one import run. */
export interface Run {
  sink: ImportSink;
  inboundDomains: Map<string, number>;
  malformed: Malformed[];
  malformedCount: number;
  keep: number;
  rowsTotal: number;
}

const MAPPERS: Partial<Record<ExportKind, RowMapper>> = {
  'message-trace': mapMessageTrace,
  'historical-search': mapHistoricalSearch,
  'email-events': mapEmailEvents,
  'change-optics': mapChangeOptics,
};

function addRows(run: Run, rows: readonly ImportedRow[]): void {
  for (const r of rows) {
    if (r.direction === 'inbound' || r.direction === 'intra-org') {
      const d = domainOfAddress(r.recipient);
      if (d) run.inboundDomains.set(d, (run.inboundDomains.get(d) ?? 0) + 1);
    }
    run.sink.add(r);
  }
}

export function bad(run: Run, fs: FileSummary, line: number, reason: string): void {
  fs.malformed++;
  run.malformedCount++;
  if (run.malformed.length < run.keep) run.malformed.push({ file: fs.file, line, reason });
}

/** Per-file state: the kind once the header is read, and what the rows go to. */
export class FileImport {
  kind: ExportKind | undefined;
  private index = new Map<string, number>();
  private width = 0;
  private mapper: RowMapper | undefined;
  extended: ExtendedAggregator | undefined;
  report: InboundReportRow[] = [];
  private sawFirst = false;
  private timeCols: ReadonlySet<string> = new Set();
  private aliases: readonly (readonly [string, string])[] = [];
  private ordinal = 0;
  /** Ordinals of rows waiting for the date order (first pass). */
  readonly waiting: number[] = [];
  private next = 0;
  private readonly forms = new Set<string>();

  /** `only`: a replay maps just these ordinals (ascending), with the order `dates` settled. */
  constructor(
    private readonly run: Run,
    readonly fs: FileSummary,
    private readonly allowed: readonly ExportKind[] | undefined,
    readonly dates: DateOrder,
    private readonly only?: readonly number[],
  ) {}

  private note(text: string): void {
    if (!this.only) this.fs.notes.push(text);
  }

  header(names: readonly string[]): void {
    const set = new Set(names.map(normHeader));
    let kind: ExportKind | undefined;
    if (this.allowed) kind = this.allowed.find((k) => missingColumns(k, set).length === 0);
    else kind = detectKind(set);
    if (!kind) throw new ImportRefused(unknownShapeMessage(this.fs.file, names, this.allowed));
    this.kind = kind;
    this.fs.kind = kind;
    names.forEach((n, i) => {
      const k = normHeader(n);
      if (!this.index.has(k)) this.index.set(k, i);
    });
    this.aliases = (COLUMN_ALIASES[kind] ?? []).filter(([from, to]) => set.has(from) && !set.has(to));
    for (const [from, to] of this.aliases) this.index.set(to, this.index.get(from)!);
    this.width = names.length;
    this.timeCols = new Set(kindSpec(kind).time);
    this.mapper = MAPPERS[kind];
    if (kind === 'extended-report') this.extended = new ExtendedAggregator();
  }

  csv(r: CsvRecord): void {
    if (!this.sawFirst) {
      this.sawFirst = true;
      if (/^#TYPE\b/i.test(r.fields[0]?.trim() ?? '')) {
        this.note(`skipped the Windows PowerShell line "${r.fields.join(',').slice(0, 60)}" (line ${r.line})`);
        this.sawFirst = false;
        return;
      }
      this.header(r.fields);
      return;
    }
    const ordinal = this.ordinal++;
    if (!this.only) {
      this.fs.rows++;
      this.run.rowsTotal++;
      if (r.problem) return bad(this.run, this.fs, r.line, r.problem);
      if (r.fields.length !== this.width) return bad(this.run, this.fs, r.line, `has ${r.fields.length} fields, the header has ${this.width}`);
    }
    const f = r.fields;
    const idx = this.index;
    this.row(ordinal, (c) => {
      const i = idx.get(c);
      return i === undefined ? '' : (f[i] ?? '');
    }, r.line);
  }

  json(value: Record<string, unknown>, line: number): void {
    const u = unwrapJson(value);
    if (u.form && !this.forms.has(u.form)) {
      this.forms.add(u.form);
      this.note(`JSON form: ${u.form}`);
    }
    if (u.nextLink && !this.forms.has('next')) {
      this.forms.add('next');
      this.note(`a Graph page carries @odata.nextLink (${u.nextLink.slice(0, 80)}): more pages exist; fetch them and import them too (overlapping pages count once)`);
    }
    for (const rec of u.records) this.jsonRecord(rec, line);
  }

  private jsonRecord(value: Record<string, unknown>, line: number): void {
    const m = new Map<string, string>();
    for (const [k, v] of Object.entries(value)) {
      if (isSidecarKey(k)) continue;
      m.set(normHeader(k), v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
    }
    if (!this.kind) this.header(Object.keys(value).filter((k) => !isSidecarKey(k)));
    for (const [from, to] of this.aliases) if (!m.has(to) && m.has(from)) m.set(to, m.get(from)!);
    const ordinal = this.ordinal++;
    if (!this.only) {
      this.fs.rows++;
      this.run.rowsTotal++;
    }
    this.row(ordinal, (c) => m.get(c) ?? '', line);
  }

  /** The row's date text (first non-empty time column). */
  private timeText(get: Getter): string {
    for (const c of this.timeCols) {
      const v = get(c);
      if (v !== '') return v;
    }
    return '';
  }

  private row(ordinal: number, raw: Getter, line: number): void {
    if (this.only) {
      if (this.only[this.next] !== ordinal) return;
      this.next++;
    } else {
      const check = this.dates.check(this.timeText(raw), line);
      if (check === 'wait') {
        this.waiting.push(ordinal);
        return;
      }
      if (check !== 'ok') return bad(this.run, this.fs, line, check);
    }
    const dates = this.dates;
    const cols = this.timeCols;
    const get: Getter = dates.order ? (c) => (cols.has(c) ? dates.normalise(raw(c)) : raw(c)) : raw;
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

  /** Rows of the Extended report, emitted once the file (and any replay) is read. */
  finishExtended(): void {
    if (!this.extended) return;
    const { rows, noRecipient } = this.extended.finish();
    addRows(this.run, rows);
    for (const id of noRecipient) bad(this.run, this.fs, 0, `message ${id} has no recipient_address in any event`);
  }
}
