/**
 * @module trace/store
 * The SQLite trace store: schema (`trace_message`, one row per message id; `trace_event`, its
 * events), synchronous inserts (the queue calls them inside its own commit transaction; the
 * buffered writer calls them inside one flush transaction), status derivation from delivery
 * events, and row ⇄ TraceMessage/TraceEvent mapping. None of these functions opens a transaction:
 * callers decide the unit of work. Statements are prepared once per connection.
 * Several processes (cluster workers, the queue owner, the CLI) share the file: the schema is
 * created with IF NOT EXISTS and every write is idempotent per message id.
 * Touches: the trace tables of the given database.
 */
import type Database from 'better-sqlite3';
import type { Db } from '../core/sqlite.ts';
import type { TraceEvent, TraceEventType, TraceMessage, TraceStatus } from './events.ts';
import { deriveStatus, OUTCOME_EVENTS } from './status.ts';
import {
  MESSAGE_COLUMNS,
  messageToRecord,
  parseRecipients,
  recordToEvent,
  recordToMessage,
  type EventRecord,
  type MessageRecord,
} from './rows.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS trace_message (
  id TEXT PRIMARY KEY,
  connection_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  client_ip TEXT NOT NULL,
  client_port INTEGER,
  helo TEXT,
  listener TEXT NOT NULL,
  tls_version TEXT,
  tls_cipher TEXT,
  cert_subject TEXT,
  auth_user TEXT,
  mail_from TEXT,
  header_from TEXT,
  recipients TEXT NOT NULL,
  rcpt_count INTEGER NOT NULL,
  subject TEXT,
  size INTEGER,
  internet_message_id TEXT,
  attribution TEXT,
  connector TEXT,
  connector_type TEXT,
  connector_matched_by TEXT,
  status TEXT NOT NULL,
  reply TEXT,
  reasons TEXT,
  source TEXT,
  spf TEXT,
  dkim TEXT,
  dmarc TEXT,
  arc TEXT,
  compauth TEXT,
  updated_at INTEGER NOT NULL,
  cert_cn TEXT,
  cert_sans TEXT,
  cert_verified INTEGER,
  import_key TEXT,
  import_name TEXT
);
CREATE INDEX IF NOT EXISTS trace_message_mail_from ON trace_message (mail_from);
CREATE INDEX IF NOT EXISTS trace_message_attribution ON trace_message (attribution, received_at);
CREATE INDEX IF NOT EXISTS trace_message_connector ON trace_message (connector, received_at);
CREATE INDEX IF NOT EXISTS trace_message_status ON trace_message (status, received_at);
CREATE TABLE IF NOT EXISTS trace_event (
  id INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  recipient TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS trace_event_message_id ON trace_event (message_id, at);
CREATE INDEX IF NOT EXISTS trace_event_at ON trace_event (at);
`;

/** Columns added after the first release: ALTERed into stores created before them. */
const ADDED_COLUMNS: readonly (readonly [string, string])[] = [
  ['cert_cn', 'TEXT'],
  ['cert_sans', 'TEXT'],
  ['cert_verified', 'INTEGER'],
  ['spoof_suspect', 'INTEGER'],
  ['dns_lookups', 'INTEGER'],
  // Rows imported from Exchange Online exports (audit/): dedupe key (network message id + recipient) and import name.
  ['import_key', 'TEXT'],
  ['import_name', 'TEXT'],
  // Exchange's own verdicts on an imported row (JSON, trace/exo-verdicts): Status, DeliveryAction, ThreatTypes, …
  ['exo_verdicts', 'TEXT'],
];

/** Indexes the reports need (after ADDED_COLUMNS, which some of them cover). */
const REPORT_INDEXES = `
CREATE INDEX IF NOT EXISTS trace_message_report_inbound ON trace_message (received_at, connector_type, connector, tls_version, status);
CREATE INDEX IF NOT EXISTS trace_message_client_ip_at ON trace_message (client_ip, received_at);
CREATE UNIQUE INDEX IF NOT EXISTS trace_message_import_key ON trace_message (import_key) WHERE import_key IS NOT NULL;
`;

/**
 * Indexes of earlier releases that another index covers by its leading column(s): received_at
 * (trace_message_report_inbound) and client_ip (trace_message_client_ip_at). Every trace row is
 * written into every index, on the queue owner's path, so they are dropped from older stores.
 */
const COVERED_INDEXES = `
DROP INDEX IF EXISTS trace_message_received_at;
DROP INDEX IF EXISTS trace_message_client_ip;
`;

function addMissingColumns(db: Db): void {
  const have = new Set((db.prepare('PRAGMA table_info(trace_message)').all() as { name: string }[]).map((c) => c.name));
  const missing = ADDED_COLUMNS.filter(([name]) => !have.has(name));
  if (missing.length === 0) return;
  db.transaction(() => {
    const now = new Set((db.prepare('PRAGMA table_info(trace_message)').all() as { name: string }[]).map((c) => c.name));
    for (const [name, type] of missing) if (!now.has(name)) db.exec(`ALTER TABLE trace_message ADD COLUMN ${name} ${type}`);
  }).immediate();
}

/** Create the trace tables and indexes if missing, adding newer columns to older stores. Idempotent; safe from several processes. */
export function ensureTraceSchema(db: Db): void {
  db.exec(SCHEMA);
  addMissingColumns(db);
  db.exec(REPORT_INDEXES);
  db.exec(COVERED_INDEXES);
}

/** The secondary indexes of trace_message that a bulk load may leave out and build once at the end. */
const SECONDARY_INDEXES = [
  'trace_message_mail_from',
  'trace_message_attribution',
  'trace_message_connector',
  'trace_message_status',
  'trace_message_report_inbound',
  'trace_message_client_ip_at',
  'trace_message_import_key',
] as const;

const IMPORT_KEY_INDEX = 'CREATE UNIQUE INDEX IF NOT EXISTS trace_message_import_key ON trace_message (import_key) WHERE import_key IS NOT NULL';

/** A bulk load's way back to the full schema. */
export interface BulkLoad {
  /**
   * Build the unique import_key index, then every other index left out. Throws SQLite's
   * SQLITE_CONSTRAINT_UNIQUE, having built nothing, while two rows share an import_key: the
   * loader dedupes them and calls again.
   */
  rebuild(): void;
}

/**
 * For a bulk load into an empty trace (an audit import into a fresh store), inside the loader's
 * own transaction: drop the secondary indexes and the unique import_key index, so each row is
 * written once instead of into eight B-trees (the random import_key above all), and return the
 * way to build them again (one sort each, much cheaper than row-by-row upkeep). Returns undefined,
 * dropping nothing, when trace_message holds any row. The drop commits or rolls back with the
 * load: an interrupted load leaves the indexes as they were.
 */
export function dropIndexesForBulkLoad(db: Db): BulkLoad | undefined {
  if (!db.inTransaction) throw new Error('dropIndexesForBulkLoad: open the load transaction first');
  ensureTraceSchema(db);
  if (db.prepare('SELECT 1 FROM trace_message LIMIT 1').get()) return undefined;
  for (const name of SECONDARY_INDEXES) db.exec(`DROP INDEX IF EXISTS ${name}`);
  return {
    rebuild: (): void => {
      db.exec(IMPORT_KEY_INDEX);
      ensureTraceSchema(db);
    },
  };
}

/**
 * Before a bulk load's transaction into an empty trace: leave WAL for a rollback journal, so
 * every page of the load is written once (WAL writes each twice: to the log, then to the file at
 * the checkpoint), still atomic (a hot journal is rolled back by the next opener). Only when no
 * other connection has the store open (SQLite refuses the switch then; this tries once, without
 * waiting). Returns the way back to WAL, to call after the commit, or undefined when nothing changed.
 * While it lasts, another process opening the store for writing waits (busy timeout) for the load.
 */
export function leaveWalForBulkLoad(db: Db): (() => void) | undefined {
  if (db.inTransaction || db.memory || db.readonly) return undefined;
  ensureTraceSchema(db);
  if (db.prepare('SELECT 1 FROM trace_message LIMIT 1').get()) return undefined;
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') return undefined;
  const busy = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  let mode: unknown;
  try {
    mode = db.pragma('journal_mode = DELETE', { simple: true });
  } catch (e) {
    if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
  } finally {
    db.pragma(`busy_timeout = ${busy}`);
  }
  if (mode !== 'delete') return undefined;
  // Should this fail (a reader holds the file this instant), the next openDatabase() sets WAL again.
  return (): void => {
    try {
      db.pragma('journal_mode = WAL');
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
    }
  };
}

const ready = new WeakSet<Db>();

/**
 * For readers: true when the trace tables can be queried. A writable connection gets the schema
 * created (once per connection); a read-only one (the CLI) only checks that it exists, so that
 * searching a store no gateway has written yet returns nothing instead of failing.
 */
export function traceReady(db: Db): boolean {
  if (ready.has(db)) return true;
  if (db.readonly) {
    const n = db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('trace_message', 'trace_event')")
      .get() as { n: number };
    if (n.n < 2) return false;
  } else {
    ensureTraceSchema(db);
  }
  ready.add(db);
  return true;
}

/** A prepared statement taking positional or named parameters (the driver's own type). */
type Stmt = Database.Statement<unknown[], unknown>;

interface Statements {
  upsertMessage: Stmt;
  insertEvent: Stmt;
  statusInputs: Stmt;
  outcomeEvents: Stmt;
  setStatus: Stmt;
}

const cache = new WeakMap<Db, Statements>();

function statements(db: Db): Statements {
  let s = cache.get(db);
  if (s) return s;
  if (!ready.has(db)) {
    ensureTraceSchema(db);
    ready.add(db);
  }
  const cols = MESSAGE_COLUMNS.join(', ');
  const params = MESSAGE_COLUMNS.map((c) => `@${c}`).join(', ');
  // Auth results survive a later upsert that has none (e.g. a row rewritten without them).
  const keepIfNull = new Set<string>(['spf', 'dkim', 'dmarc', 'arc', 'compauth', 'spoof_suspect', 'dns_lookups']);
  const updates = MESSAGE_COLUMNS.filter((c) => c !== 'id')
    .map((c) => (keepIfNull.has(c) ? `${c} = COALESCE(excluded.${c}, ${c})` : `${c} = excluded.${c}`))
    .join(', ');
  const outcomeList = OUTCOME_EVENTS.map((e) => `'${e}'`).join(', ');
  s = {
    upsertMessage: db.prepare(
      `INSERT INTO trace_message (${cols}) VALUES (${params}) ON CONFLICT (id) DO UPDATE SET ${updates}`,
    ),
    insertEvent: db.prepare(
      'INSERT INTO trace_event (message_id, at, event, recipient, detail) VALUES (?, ?, ?, ?, ?)',
    ),
    statusInputs: db.prepare('SELECT status, recipients FROM trace_message WHERE id = ?'),
    outcomeEvents: db.prepare(
      `SELECT event, recipient FROM trace_event WHERE message_id = ? AND event IN (${outcomeList}) ORDER BY at, id`,
    ),
    setStatus: db.prepare('UPDATE trace_message SET status = ?, updated_at = ? WHERE id = ?'),
  };
  cache.set(db, s);
  return s;
}

/** Recompute and store the status of one message from its outcome events (no-op if no row). */
function refreshStatus(s: Statements, id: string, now: number): void {
  // Events first: a new message has none, and then one index lookup is all this costs.
  const events = s.outcomeEvents.all(id) as { event: TraceEventType; recipient: string | null }[];
  if (events.length === 0) return;
  const row = s.statusInputs.get(id) as { status: TraceStatus; recipients: string } | undefined;
  if (!row) return;
  const next = deriveStatus(
    row.status,
    parseRecipients(row.recipients),
    events.map((e) => ({ event: e.event, recipient: e.recipient ?? undefined })),
  );
  if (next !== row.status) s.setStatus.run(next, now, id);
}

/**
 * Insert or replace a message row (upsert on id: every TraceMessage column is replaced, except
 * that auth results spf/dkim/dmarc/arc/compauth are kept when the new row has none). If delivery events for the id are
 * already stored, the status is re-derived from them so a late row never hides an outcome.
 * Opens no transaction: call inside the caller's (e.g. the queue's commit transaction).
 */
export function insertMessageSync(db: Db, row: TraceMessage, now: number = Date.now()): void {
  const s = statements(db);
  s.upsertMessage.run(messageToRecord(row, now));
  refreshStatus(s, row.id, now);
}

/**
 * Append events and re-derive the status of every message that received an outcome event
 * (DEFER, DELIVER, FAIL, QUARANTINE). Opens no transaction: wrap it for atomicity and speed.
 */
export function insertEventsSync(db: Db, events: readonly TraceEvent[], now: number = Date.now()): void {
  if (events.length === 0) return;
  const s = statements(db);
  const touched = new Set<string>();
  for (const e of events) {
    s.insertEvent.run(e.messageId, e.at, e.event, e.recipient ?? null, e.detail ?? null);
    if (OUTCOME_EVENTS.includes(e.event)) touched.add(e.messageId);
  }
  for (const id of touched) refreshStatus(s, id, now);
}

/** Read one message row by id. */
export function readMessage(db: Db, id: string): TraceMessage | undefined {
  if (!traceReady(db)) return undefined;
  const r = db.prepare('SELECT * FROM trace_message WHERE id = ?').get(id) as MessageRecord | undefined;
  return r ? recordToMessage(r) : undefined;
}

/** Read the events of one message, oldest first. */
export function readEvents(db: Db, id: string): TraceEvent[] {
  if (!traceReady(db)) return [];
  const rows = db.prepare('SELECT * FROM trace_event WHERE message_id = ? ORDER BY at, id').all(id) as EventRecord[];
  return rows.map(recordToEvent);
}
