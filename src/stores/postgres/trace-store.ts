/**
 * @module stores/postgres/trace-store
 * The TraceStore interface over PostgreSQL (the fleet): writes (messages upserted by id, events
 * written once per node + sequence, then the status re-derived from outcome events, all in one
 * transaction, partitions of the batch's days created first in their own), searches (the same
 * filters as SQLite through trace/search's query builder in PostgreSQL's spelling, keyset pages
 * while JS checks run so `limit` stays exact), show, retention (stores/postgres/trace-prune; the
 * cache of existing day partitions is forgotten after it, and a write meeting a day another node
 * dropped makes it again and retries once), the report row primitives (stores/postgres/trace-rows),
 * the console's reads (trace-dashboard), the alert rules' (trace-alerts) and replay facts
 * (trace-replay). The tables come from migration 0002-trace.
 * Touches: the trace tables of one schema, through the given pool.
 */
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { NUMERIC_INT8 } from './int8.ts';
import { buildTraceQuery, deriveStatus, OUTCOME_EVENTS, searchLimit, type SearchDialect, type SequencedEvent, type TraceBatch, type TraceEvent, type TraceMessage, type TraceStatus, type TraceStore } from '../../trace/index.ts';
import { MESSAGE_COLUMNS, messageToRecord, parseRecipients, recordToEvent, recordToMessage, type EventRecord, type MessageRecord } from '../../trace/rows.ts';
import { withClient } from './checkout.ts';
import { createDayPartitions, DAY_MS, ident } from './trace-schema.ts';
import { pruneTracePg } from './trace-prune.ts';
import { runHuntPg } from './trace-hunt.ts';
import { PG_SAVED_HUNTS } from './trace-saved-hunts.ts';
import { HuntRefused } from '../../trace/hunt.ts';
import { pgReportRows, pgRowCount } from './trace-rows.ts';
import { pgDashboardReads } from './trace-dashboard.ts';
import { pgAlertReads } from './trace-alerts.ts';
import { pgReplayFacts } from './trace-replay.ts';


export const PG_DIALECT: SearchDialect = {
  contains: (c) => `strpos(lower(${c}), ?) > 0`,
  equalsNoCase: (c) => `lower(${c}) = lower(?)`,
  likeNoCase: (c) => `${c} ILIKE ?`,
};

/** `?` placeholders → `$n`, numbered from `from`. */
export function numbered(sql: string, from = 1): string {
  let n = from - 1;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export interface PgTraceOptions {
  pool: Pool;
  schema: string;
  /** This writer's node name (recorded on every row it writes). */
  node: string;
  /** The database URL, for hunts (each on a connection of its own); without it hunts are refused. */
  url?: string | undefined;
  /** Close the pool with the store. */
  ownsPool?: boolean | undefined;
}

/**
 * PostgreSQL text refuses NUL (0x00), which SQLite stores: a next hop's reply or a subject carrying
 * one would fail its batch on every retry and hold up everything the outbox has behind it. It is
 * written as U+FFFD, so the row still shows something was there.
 */
function pgText(v: unknown): unknown {
  return typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\uFFFD') : v;
}

/** A fleet row as a TraceMessage, with the node that wrote it. */
function withNode(r: MessageRecord & { node?: unknown }): TraceMessage {
  const m = recordToMessage(r);
  if (typeof r.node === 'string') m.node = r.node;
  return m;
}

const KEEP_IF_NULL = new Set<string>(['spf', 'dkim', 'dmarc', 'arc', 'compauth', 'spoof_suspect', 'dns_lookups', 'import_key', 'import_name', 'exo_verdicts']);
const IMPORT_COLUMNS = ['import_key', 'import_name', 'exo_verdicts'] as const;
const MSG_CHUNK = 500;
const EVT_CHUNK = 2000;

/** A TraceStore over PostgreSQL (module header). */
export function pgTraceStore(o: PgTraceOptions): TraceStore {
  const s = ident(o.schema);
  const q = async <R extends object>(c: Pool | PoolClient, text: string, values: unknown[] = []): Promise<R[]> =>
    (await c.query<R>({ text, values, types: NUMERIC_INT8 } as QueryConfig)).rows;
  const known = new Set<number>();
  const ensureDays = async (c: PoolClient, days: Iterable<number>): Promise<void> => {
    const missing = [...new Set(days)].filter((d) => !known.has(d));
    if (missing.length === 0) return;
    await createDayPartitions(c, o.schema, missing);
    for (const d of missing) known.add(d);
  };
  /** Retention (here or on another node) dropped a day this cache still lists. */
  const isMissingPartition = (err: unknown): boolean =>
    (err as { code?: unknown }).code === '23514' && /no partition of relation/.test(String((err as { message?: unknown }).message));

  const cols = ['node', ...MESSAGE_COLUMNS, ...IMPORT_COLUMNS];
  const updates = [...MESSAGE_COLUMNS, ...IMPORT_COLUMNS].filter((c) => c !== 'id' && c !== 'received_at')
    .map((c) => (KEEP_IF_NULL.has(c) ? `${c} = COALESCE(excluded.${c}, t.${c})` : `${c} = excluded.${c}`))
    .concat('node = excluded.node')
    .join(', ');

  async function upsertMessages(c: PoolClient, node: string, rows: TraceBatch['messages'], now: number): Promise<void> {
    // One statement may not touch a row twice: the last version of an id wins, as in SQLite.
    const byId = new Map<string, TraceBatch['messages'][number]>();
    for (const m of rows) byId.set(m.id, m);
    const all = [...byId.values()];
    for (let i = 0; i < all.length; i += MSG_CHUNK) {
      const chunk = all.slice(i, i + MSG_CHUNK);
      const values: unknown[] = [];
      const tuples = chunk.map((m) => {
        const r: Record<string, unknown> = { node, ...messageToRecord(m, now), import_key: m.importKey, import_name: m.importName, exo_verdicts: m.exoVerdicts };
        const start = values.length;
        for (const col of cols) values.push(pgText(r[col] ?? null));
        return `(${cols.map((_, j) => `$${start + j + 1}`).join(', ')})`;
      });
      await q(c, `INSERT INTO ${s}.trace_message AS t (${cols.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id, received_at) DO UPDATE SET ${updates}`, values);
    }
  }

  async function insertEvents(c: PoolClient, node: string, events: readonly SequencedEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += EVT_CHUNK) {
      const chunk = events.slice(i, i + EVT_CHUNK);
      const values: unknown[] = [];
      const tuples = chunk.map((e) => {
        const p = (v: unknown): string => `$${values.push(pgText(v))}`;
        const seq = e.seq === undefined ? `-nextval('${o.schema.replace(/'/g, "''")}.trace_event_local_seq')` : p(e.seq);
        return `(${p(node)}, ${seq}, ${p(e.messageId)}, ${p(e.at)}, ${p(e.event)}, ${p(e.recipient ?? null)}, ${p(e.detail ?? null)})`;
      });
      await q(c, `INSERT INTO ${s}.trace_event (node, seq, message_id, at, event, recipient, detail) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, values);
    }
  }

  /** Re-derive the status of `ids` from their outcome events (a late row never hides an outcome). */
  async function refreshStatus(c: PoolClient, ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    const evs = await q<{ message_id: string; event: TraceEvent['event']; recipient: string | null }>(
      c,
      `SELECT message_id, event, recipient FROM ${s}.trace_event WHERE message_id = ANY($1) AND event = ANY($2) ORDER BY message_id, at, node, seq`,
      [ids, OUTCOME_EVENTS],
    );
    if (evs.length === 0) return;
    const by = new Map<string, { event: TraceEvent['event']; recipient?: string }[]>();
    for (const e of evs) {
      const list = by.get(e.message_id) ?? [];
      list.push(e.recipient === null ? { event: e.event } : { event: e.event, recipient: e.recipient });
      by.set(e.message_id, list);
    }
    const rows = await q<{ id: string; received_at: number; status: TraceStatus; recipients: string }>(
      c,
      `SELECT id, received_at, status, recipients FROM ${s}.trace_message WHERE id = ANY($1)`,
      [[...by.keys()]],
    );
    for (const r of rows) {
      const next = deriveStatus(r.status, parseRecipients(r.recipients), by.get(r.id) ?? []);
      if (next !== r.status) await q(c, `UPDATE ${s}.trace_message SET status = $1, updated_at = $2 WHERE id = $3 AND received_at = $4`, [next, now, r.id, r.received_at]);
    }
  }

  async function write(b: TraceBatch): Promise<void> {
    if (b.messages.length === 0 && b.events.length === 0) return;
    const node = b.node ?? o.node;
    const now = Date.now();
    const today = Math.floor(now / DAY_MS);
    const days = [today, today + 1, today + 2, ...b.messages.map((m) => Math.floor(m.receivedAt / DAY_MS)), ...b.events.map((e) => Math.floor(e.at / DAY_MS))];
    await withClient(o.pool, async (c) => {
      await ensureDays(c, days);
      try {
        await writeBatch(c, node, b, now);
      } catch (err) {
        if (!isMissingPartition(err)) throw err;
        // A late row for a dropped day: forget the cache, make the days again, retry once.
        known.clear();
        await ensureDays(c, days);
        await writeBatch(c, node, b, now);
      }
    });
  }

  async function writeBatch(c: PoolClient, node: string, b: TraceBatch, now: number): Promise<void> {
    await c.query('BEGIN');
    try {
      await upsertMessages(c, node, b.messages, now);
      await insertEvents(c, node, b.events);
      const touched = new Set(b.messages.map((m) => m.id));
      for (const e of b.events) if (OUTCOME_EVENTS.includes(e.event)) touched.add(e.messageId);
      await refreshStatus(c, [...touched], now);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async function search(filter: import('../../trace/index.ts').TraceFilter = {}): Promise<TraceMessage[]> {
    const limit = searchLimit(filter);
    const tq = buildTraceQuery(filter, PG_DIALECT);
    const out: TraceMessage[] = [];
    // Without JS checks SQL's LIMIT is exact; with them, keyset pages until `limit` pass.
    const page = tq.checks.length ? Math.max(200, limit) : limit;
    let after: { at: number; id: string } | undefined;
    for (;;) {
      const where = [...tq.where];
      const params: unknown[] = [...tq.params];
      if (after) {
        where.push('(received_at, id) < (?, ?)');
        params.push(after.at, after.id);
      }
      const sql = `SELECT * FROM ${s}.trace_message ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, id DESC LIMIT ${page}`;
      const rows = await q<MessageRecord>(o.pool, numbered(sql), params);
      for (const r of rows) {
        const m = withNode(r);
        if (!tq.checks.every((check) => check(m))) continue;
        out.push(m);
        if (out.length >= limit) return out;
      }
      const last = rows[rows.length - 1];
      if (rows.length < page || !last) return out;
      after = { at: Number(last.received_at), id: String(last.id) };
    }
  }

  async function show(id: string): Promise<{ message: TraceMessage; events: TraceEvent[] } | undefined> {
    const [r] = await q<MessageRecord>(o.pool, `SELECT * FROM ${s}.trace_message WHERE id = $1 ORDER BY received_at DESC LIMIT 1`, [id]);
    if (!r) return undefined;
    const evs = await q<EventRecord>(o.pool, `SELECT * FROM ${s}.trace_event WHERE message_id = $1 ORDER BY at, node, seq`, [id]);
    return { message: withNode(r), events: evs.map(recordToEvent) };
  }

  return {
    kind: 'postgres',
    write,
    search,
    show,
    prune: async (cutoff) => {
      try {
        return await pruneTracePg(o.pool, o.schema, cutoff);
      } finally {
        known.clear(); // dropped days are made again by the next write that needs them
      }
    },
    removeImport: async (name) =>
      withClient(o.pool, async (c) => {
        await c.query('BEGIN');
        try {
          await c.query(`DELETE FROM ${s}.trace_event WHERE message_id IN (SELECT id FROM ${s}.trace_message WHERE import_name = $1)`, [name]);
          const n = (await c.query(`DELETE FROM ${s}.trace_message WHERE import_name = $1`, [name])).rowCount ?? 0;
          await c.query('COMMIT');
          return n;
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    hunt: async (sql, h) => {
      if (!o.url) throw new HuntRefused('hunts need the PostgreSQL URL of the store (none given)');
      return runHuntPg(sql, { url: o.url, schema: o.schema, limit: h.limit, timeoutMs: h.timeoutMs });
    },
    ...pgReportRows((text, values) => q(o.pool, text, values), s),
    // dashboard, rule hits, alerts
    ...pgDashboardReads((text, values) => q(o.pool, text, values), s),
    ...pgAlertReads((text, values) => q(o.pool, text, values), s),
    replayFacts: pgReplayFacts(o.pool, s),
    rowCount: pgRowCount((text, values) => q(o.pool, text, values), s),
    savedHuntText: (name) => (Object.hasOwn(PG_SAVED_HUNTS, name) ? PG_SAVED_HUNTS[name] : undefined),
    close: async () => {
      if (o.ownsPool) await o.pool.end();
    },
  };
}
