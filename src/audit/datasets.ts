/**
 * @module audit/datasets
 * An import is a named data set: `audit_import` records, per import name, every file read into it
 * (path, SHA-256 of its bytes, kind, encoding, rows, when), the kinds, the message copies it holds,
 * their first and last time, and the tenant domains (given with --tenant-domains, or inferred, and
 * how). Reports and plans over `import:NAME` read their default window and tenant domains from
 * here; `audit list` lists it and `audit remove NAME` deletes the data set with its rows.
 * Imports made before this table existed (rows with an import_name and no record) are listed from
 * the trace itself, marked as unrecorded.
 * Touches: audit_import (create, write, delete); trace_message and audit_inbound_report (read, and
 * delete on remove).
 */
import type { Db } from '../core/sqlite.ts';
import { traceReady } from '../trace/index.ts';
import { ensureInboundReportSchema } from './inbound-report.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_import (
  name TEXT PRIMARY KEY,
  files TEXT NOT NULL,
  rows INTEGER NOT NULL,
  report_rows INTEGER NOT NULL,
  first_at INTEGER,
  last_at INTEGER,
  tenant_domains TEXT NOT NULL,
  tenant_given INTEGER NOT NULL,
  tenant_how TEXT NOT NULL,
  imported_at INTEGER NOT NULL
)`;

export function ensureDatasetSchema(db: Db): void {
  db.exec(SCHEMA);
}

/** One file read into an import. */
export interface DatasetFile {
  file: string;
  sha256: string;
  kind: string;
  encoding: string;
  rows: number;
  importedAt: string;
}

/** An import as `audit list` shows it. */
export interface Dataset {
  name: string;
  source: string;
  files: DatasetFile[];
  kinds: string[];
  /** Message copies held in the trace. */
  rows: number;
  /** Rows of the EAC Inbound messages report (aggregates, not messages). */
  reportRows: number;
  first?: number | undefined;
  last?: number | undefined;
  tenantDomains: string[];
  /** True when the domains were given with --tenant-domains (not inferred). */
  tenantGiven: boolean;
  tenantHow: string;
  importedAt?: number | undefined;
  /** False for rows imported before imports were recorded. */
  recorded: boolean;
}

interface Row {
  name: string;
  files: string;
  rows: number;
  report_rows: number;
  first_at: number | null;
  last_at: number | null;
  tenant_domains: string;
  tenant_given: number;
  tenant_how: string;
  imported_at: number;
}

function fromRow(r: Row): Dataset {
  const files = JSON.parse(r.files) as DatasetFile[];
  return {
    name: r.name,
    source: `import:${r.name}`,
    files,
    kinds: [...new Set(files.map((f) => f.kind))],
    rows: r.rows,
    reportRows: r.report_rows,
    first: r.first_at ?? undefined,
    last: r.last_at ?? undefined,
    tenantDomains: JSON.parse(r.tenant_domains) as string[],
    tenantGiven: r.tenant_given === 1,
    tenantHow: r.tenant_how,
    importedAt: r.imported_at,
    recorded: true,
  };
}

/** The recorded import of that name, if any. */
export function getDataset(db: Db, name: string): Dataset | undefined {
  ensureDatasetSchema(db);
  const r = db.prepare('SELECT * FROM audit_import WHERE name = ?').get(name) as Row | undefined;
  return r ? fromRow(r) : undefined;
}

/** Rows, first and last time of an import's message copies in the trace. */
function held(db: Db, name: string): { n: number; a: number | null; b: number | null } {
  return db.prepare('SELECT count(*) AS n, min(received_at) AS a, max(received_at) AS b FROM trace_message WHERE import_name = ?').get(name) as {
    n: number;
    a: number | null;
    b: number | null;
  };
}

export interface RecordInput {
  name: string;
  files: readonly DatasetFile[];
  tenantDomains: readonly string[];
  tenantGiven: boolean;
  tenantHow: string;
  now: number;
}

/**
 * Record (or extend, on a re-import under the same name) an import once its rows are written: the
 * files are added to those already recorded (a file read again replaces its entry), the counts and
 * time range are read back from the trace, so they hold whatever the import holds now.
 */
export function recordDataset(db: Db, input: RecordInput): Dataset {
  ensureDatasetSchema(db);
  ensureInboundReportSchema(db);
  const prev = getDataset(db, input.name);
  const files = [...(prev?.files ?? []).filter((f) => !input.files.some((n) => n.file === f.file && n.sha256 === f.sha256)), ...input.files];
  const h = held(db, input.name);
  const reportRows = (db.prepare('SELECT count(*) AS n FROM audit_inbound_report WHERE import_name = ?').get(input.name) as { n: number }).n;
  db.prepare(
    `INSERT OR REPLACE INTO audit_import (name, files, rows, report_rows, first_at, last_at, tenant_domains, tenant_given, tenant_how, imported_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(input.name, JSON.stringify(files), h.n, reportRows, h.a, h.b, JSON.stringify(input.tenantDomains), input.tenantGiven ? 1 : 0, input.tenantHow, input.now);
  return getDataset(db, input.name)!;
}

/** Every import: the recorded ones, then rows imported before imports were recorded. */
export function listDatasets(db: Db): Dataset[] {
  ensureDatasetSchema(db);
  const out = (db.prepare('SELECT * FROM audit_import ORDER BY name').all() as Row[]).map(fromRow);
  if (!traceReady(db)) return out;
  const legacy = db
    .prepare(
      `SELECT import_name AS name, count(*) AS n, min(received_at) AS a, max(received_at) AS b FROM trace_message
       WHERE import_name IS NOT NULL AND import_name NOT IN (SELECT name FROM audit_import) GROUP BY import_name ORDER BY import_name`,
    )
    .all() as { name: string; n: number; a: number; b: number }[];
  for (const l of legacy) {
    out.push({
      name: l.name, source: `import:${l.name}`, files: [], kinds: [], rows: l.n, reportRows: 0, first: l.a, last: l.b,
      tenantDomains: [], tenantGiven: false, tenantHow: 'not recorded (imported before mailgate recorded imports)', recorded: false,
    });
  }
  return out;
}

/** Delete an import: its message copies, its Inbound messages report rows and its record. Returns what went. */
export function removeDataset(db: Db, name: string): { messages: number; reportRows: number; recorded: boolean } | undefined {
  ensureDatasetSchema(db);
  ensureInboundReportSchema(db);
  return db.transaction(() => {
    const recorded = db.prepare('DELETE FROM audit_import WHERE name = ?').run(name).changes > 0;
    const messages = traceReady(db) ? db.prepare('DELETE FROM trace_message WHERE import_name = ?').run(name).changes : 0;
    const reportRows = db.prepare('DELETE FROM audit_inbound_report WHERE import_name = ?').run(name).changes;
    return recorded || messages > 0 || reportRows > 0 ? { messages, reportRows, recorded } : undefined;
  })();
}

/** The import name of a `--source import:NAME`, else undefined. */
export function importNameOf(source: string | undefined): string | undefined {
  return source?.startsWith('import:') ? source.slice('import:'.length) : undefined;
}
