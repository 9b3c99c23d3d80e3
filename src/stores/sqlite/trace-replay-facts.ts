/**
 * @module stores/sqlite/trace-replay-facts
 * Policy replay's facts over a SQLite trace (the replayFacts primitive of trace/trace-store.ts): the
 * window's gateway rows grouped by every fact replay reads, with the recipients refused one by
 * one. Fast path: SQLite hands over each row's facts as one key string (NUL between columns, it
 * never occurs in the facts; \u0001 for NULL, so NULL and '' differ), one value per row crosses
 * into JavaScript instead of eleven; a row is read whole only for a new key, its time and subject
 * only for a sample. Past GROUP_LIMIT distinct tuples the groups so far are yielded and counting
 * starts over (a bound on memory; a tuple may then come in two groups, which add up). Rows are
 * read in keyset pages, so no statement is open while a group is handed over.
 * Touches: reads trace_message and trace_event.
 */
import type { Db } from '../../core/sqlite.ts';
import { REPLAY_FACT_COLUMNS, traceReady, type ReplayFactGroup, type ReplayFacts, type ReplayScope } from '../../trace/index.ts';

const FACT_KEY_SQL = REPLAY_FACT_COLUMNS.map((c) => `coalesce(${c}, char(1))`).join(' || char(0) || ');

/** Distinct fact tuples held at once (module header). */
const GROUP_LIMIT = 1_000_000;
/** Rows read per statement. */
const PAGE_ROWS = 50_000;

/** The rows of the scope (gateway traffic only), as a WHERE clause and its arguments. */
function scopeWhere(scope: ReplayScope): { sql: string; args: unknown[] } {
  const args: unknown[] = [scope.since, scope.until];
  let sql = `received_at >= ? AND received_at < ? AND (source IS NULL OR source = 'gateway')`;
  if (scope.match) {
    const ips = [...new Set(scope.match.ips)];
    const byIp = ips.length ? `client_ip IN (${ips.map(() => '?').join(', ')})` : '0';
    const byCert = scope.match.certCn ? ' OR (cert_cn = ? AND cert_verified = 1)' : '';
    sql += ` AND (${byIp}${byCert})`;
    args.push(...ips, ...(scope.match.certCn ? [scope.match.certCn] : []));
  }
  return { sql, args };
}

/**
 * The scope's fact groups (module header). `perRow`: every row a group of its own (the reference
 * the grouped replay is tested against).
 */
export function* replayFactGroupsSync(db: Db, scope: ReplayScope, opts: { samples: number; perRow?: boolean | undefined }): Generator<ReplayFactGroup> {
  if (!traceReady(db)) return;
  const refusedRcpts = new Map<string, string[]>();
  const evs = db.prepare("SELECT message_id, recipient FROM trace_event WHERE event = 'REJECT' AND recipient IS NOT NULL AND at >= ? ORDER BY at, recipient").raw(true).iterate(scope.since) as IterableIterator<[string, string]>;
  for (const [id, rcpt] of evs) {
    const list = refusedRcpts.get(id);
    if (list) list.push(rcpt);
    else refusedRcpts.set(id, [rcpt]);
  }
  const where = scopeWhere(scope);
  const firstPage = db.prepare(`SELECT id, ${FACT_KEY_SQL}, received_at FROM trace_message WHERE ${where.sql} ORDER BY received_at, id LIMIT ${PAGE_ROWS}`).raw(true);
  // The next page starts at the last row's time (its lower bound keeps the index range scan).
  const nextPage = db.prepare(`SELECT id, ${FACT_KEY_SQL}, received_at FROM trace_message WHERE ${where.sql} AND (received_at > ? OR id > ?) ORDER BY received_at, id LIMIT ${PAGE_ROWS}`).raw(true);
  const factsOf = db.prepare(`SELECT ${REPLAY_FACT_COLUMNS.join(', ')} FROM trace_message WHERE id = ?`);
  const sampleOf = db.prepare('SELECT received_at, subject FROM trace_message WHERE id = ?');
  const groups = new Map<string, ReplayFactGroup>();
  const sample = (g: ReplayFactGroup, id: string): void => {
    const s = sampleOf.get(id) as { received_at: number; subject: string | null };
    g.samples.push({ id, at: s.received_at, subject: s.subject });
  };
  // Groups due out are held until the page's statement has finished: no statement stays open
  // across a yield, so the consumer may await between groups while the gateway writes on the handle.
  let ready: ReplayFactGroup[] = [];
  let after: [number, string] | undefined;
  for (;;) {
    const page = (after ? nextPage.iterate(after[0], ...where.args.slice(1), after[0], after[1]) : firstPage.iterate(...where.args)) as IterableIterator<[string, string, number]>;
    let n = 0;
    for (const [id, factText, at] of page) {
      n++;
      after = [at, id];
      const refused = refusedRcpts.get(id);
      if (opts.perRow) {
        const g: ReplayFactGroup = { facts: factsOf.get(id) as ReplayFacts, refused: refused ?? [], count: 1, samples: [] };
        if (opts.samples > 0) sample(g, id);
        ready.push(g);
        continue;
      }
      const key = refused ? `${factText}\0\0${refused.join('\0')}` : factText;
      let g = groups.get(key);
      if (!g) {
        if (groups.size >= GROUP_LIMIT) {
          for (const x of groups.values()) ready.push(x);
          groups.clear();
        }
        g = { facts: factsOf.get(id) as ReplayFacts, refused: refused ?? [], count: 0, samples: [] };
        groups.set(key, g);
      }
      g.count++;
      if (g.samples.length < opts.samples) sample(g, id);
    }
    if (ready.length) {
      const out = ready;
      ready = [];
      yield* out;
    }
    if (n < PAGE_ROWS) break;
  }
  yield* groups.values();
}
