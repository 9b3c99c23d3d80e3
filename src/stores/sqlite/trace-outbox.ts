/**
 * @module stores/sqlite/trace-outbox
 * The local trace outbox of a fleet node. The node keeps writing its trace to its own SQLite
 * file (the `queued` rows commit with the queue row, as on a single node); triggers on the trace
 * tables record every written message id and event in trace_outbox, in the same transaction, so
 * nothing written can be missed. The shipper (trace/shipper.ts) reads the entries left (past the
 * shipped mark) in order, sends the current rows (events with their local id as sequence, the
 * idempotence key with the node), then acks: shipped entries are deleted, the mark grows.
 * Local trace rows are pruned once shipped and older than a keep window.
 * Touches: trace_outbox, trace_outbox_state and (pruning) the trace tables of the node's database.
 */
import type { Db } from '../../core/sqlite.ts';
import { ensureTraceSchema, type ImportFields, type OutboxBacklog, type OutboxSource, type SequencedEvent, type TraceMessage } from '../../trace/index.ts';
import { MESSAGE_COLUMNS, recordToEvent, recordToMessage, type EventRecord, type MessageRecord } from '../../trace/rows.ts';

const NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

/**
 * Columns whose update means new content to ship: all but status and updated_at, which only a
 * status refresh sets alone, and that follows an event the outbox already records.
 */
const CONTENT_COLUMNS = [...MESSAGE_COLUMNS.filter((c) => c !== 'id' && c !== 'status' && c !== 'updated_at'), 'import_key', 'import_name', 'exo_verdicts'].join(', ');

// seq is the rowid (no AUTOINCREMENT: its sqlite_sequence upkeep costs every commit). Only an ack
// deletes entries, and never past what it read, so a new entry always numbers above the last read.
const DDL = `
CREATE TABLE IF NOT EXISTS trace_outbox (
  seq INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  event_id INTEGER,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trace_outbox_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trace_outbox_node (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS trace_outbox_message_insert AFTER INSERT ON trace_message
  BEGIN INSERT INTO trace_outbox (message_id, at) VALUES (NEW.id, ${NOW_MS}); END;
CREATE TRIGGER IF NOT EXISTS trace_outbox_message_update AFTER UPDATE OF ${CONTENT_COLUMNS} ON trace_message
  BEGIN INSERT INTO trace_outbox (message_id, at) VALUES (NEW.id, ${NOW_MS}); END;
CREATE TRIGGER IF NOT EXISTS trace_outbox_event_insert AFTER INSERT ON trace_event
  BEGIN INSERT INTO trace_outbox (message_id, event_id, at) VALUES (NEW.message_id, NEW.id, ${NOW_MS}); END;
`;

type ImportRecord = { import_key?: string | null; import_name?: string | null; exo_verdicts?: string | null };

/** An imported row (audit/) ships with its key, import name and Exchange's verdicts. */
function withImportFields(m: TraceMessage, r: ImportRecord): TraceMessage & ImportFields {
  if (!r.import_key && !r.import_name && !r.exo_verdicts) return m;
  return { ...m, importKey: r.import_key ?? undefined, importName: r.import_name ?? undefined, exoVerdicts: r.exo_verdicts ?? undefined };
}

/** Start recording trace writes in the outbox (idempotent; rows written before are not shipped). */
export function enableTraceOutbox(db: Db): void {
  ensureTraceSchema(db);
  db.exec(DDL);
}

/**
 * Remember the node this outbox ships as (the queue owner's `--node`): a shipper started
 * elsewhere on the same file (the CLI after an import) must ship as the same node, since an
 * event's idempotence key is its node and sequence.
 */
export function setOutboxNode(db: Db, node: string): void {
  enableTraceOutbox(db);
  db.prepare('INSERT INTO trace_outbox_node (id, name) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name').run(node);
}

/** The node this outbox last shipped as, if a queue owner ever shipped it. */
export function outboxNode(db: Db): string | undefined {
  enableTraceOutbox(db);
  return (db.prepare('SELECT name FROM trace_outbox_node WHERE id = 1').get() as { name: string } | undefined)?.name;
}

/** Stop recording (a node leaving the fleet): triggers dropped, unshipped entries kept. */
export function disableTraceOutbox(db: Db): void {
  db.exec('DROP TRIGGER IF EXISTS trace_outbox_message_insert; DROP TRIGGER IF EXISTS trace_outbox_message_update; DROP TRIGGER IF EXISTS trace_outbox_event_insert;');
}

/** The outbox of `db` as the shipper reads it. */
export function sqliteOutbox(db: Db): OutboxSource {
  enableTraceOutbox(db);
  const pick = db.prepare('SELECT seq, message_id, event_id FROM trace_outbox ORDER BY seq LIMIT ?');
  const message = db.prepare('SELECT * FROM trace_message WHERE id = ?');
  const event = db.prepare('SELECT * FROM trace_event WHERE id = ?');
  const ack = db.transaction((last: number) => {
    const n = db.prepare('DELETE FROM trace_outbox WHERE seq <= ?').run(last).changes;
    db.prepare("INSERT INTO trace_outbox_state (name, value) VALUES ('shipped', ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value").run(n);
  });
  const backlog = db.prepare('SELECT count(*) AS rows, min(at) AS oldest FROM trace_outbox');
  return {
    read: (limit) => {
      // One read transaction: the rows shipped are the ones the entries point at, as of now.
      return db.transaction(() => {
        const entries = pick.all(limit) as { seq: number; message_id: string; event_id: number | null }[];
        const last = entries[entries.length - 1];
        if (!last) return undefined;
        const messages = new Map<string, TraceMessage & ImportFields>();
        const events: SequencedEvent[] = [];
        for (const e of entries) {
          if (e.event_id !== null) {
            const r = event.get(e.event_id) as EventRecord | undefined;
            if (r) events.push({ ...recordToEvent(r), seq: r.id });
          }
          // An event ships alone: the store re-derives the status from it (the row went with its own entry).
          if (e.event_id === null && !messages.has(e.message_id)) {
            const r = message.get(e.message_id) as MessageRecord | undefined;
            if (r) messages.set(e.message_id, withImportFields(recordToMessage(r), r as ImportRecord));
          }
        }
        return { batch: { messages: [...messages.values()], events }, lastSeq: last.seq };
      }).deferred();
    },
    ack: (lastSeq) => {
      ack.immediate(lastSeq);
    },
    backlog: (): OutboxBacklog => {
      const r = backlog.get() as { rows: number; oldest: number | null };
      return { rows: r.rows, oldestAt: r.oldest ?? undefined };
    },
  };
}

/** Outbox entries shipped and acked since the outbox was enabled (the mark only ever grows). */
export function shippedMark(db: Db): number {
  const r = db.prepare("SELECT value FROM trace_outbox_state WHERE name = 'shipped'").get() as { value: number } | undefined;
  return r?.value ?? 0;
}

/**
 * Delete local trace rows received before `before` whose every write has shipped (no outbox
 * entry left), with their events; imported rows stay. Returns the rows deleted.
 */
export function pruneShipped(db: Db, before: number, batch = 1000): { messages: number; events: number } {
  enableTraceOutbox(db);
  const out = { messages: 0, events: 0 };
  const pick = db.prepare(
    'SELECT id FROM trace_message m WHERE received_at < ? AND import_name IS NULL AND NOT EXISTS (SELECT 1 FROM trace_outbox o WHERE o.message_id = m.id) LIMIT ?',
  );
  const delEvents = db.prepare('DELETE FROM trace_event WHERE message_id = ?');
  const delMessage = db.prepare('DELETE FROM trace_message WHERE id = ?');
  const step = db.transaction((): number => {
    const ids = pick.all(before, batch) as { id: string }[];
    for (const { id } of ids) {
      out.events += delEvents.run(id).changes;
      out.messages += delMessage.run(id).changes;
    }
    return ids.length;
  });
  while (step.immediate() === batch) {
    /* next batch */
  }
  return out;
}
