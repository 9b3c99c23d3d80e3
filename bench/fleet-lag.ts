/**
 * @module bench/fleet-lag
 * The trace lag of a fleet under load: polls the shared PostgreSQL trace every few ms for each
 * node's new events (by the node's event sequence, so each poll reads only what arrived since the
 * last) and notes, per message, when its RECEIVE event was first visible. The lag of a message is
 * that moment minus the RECEIVE stamp, which the node takes just before the commit its 250 waits
 * for; the RECEIVE event ships in the same PostgreSQL transaction as the message's trace row.
 * Touches: reads trace_event (and counts trace_message) in one schema through the given pool.
 */
import type pg from 'pg';

export interface LagPoller {
  /** Message ids seen so far, with their RECEIVE stamp and first-visible time (ms epoch). */
  seen: Map<string, { at: number; visibleAt: number }>;
  /** Resolves when `n` messages stamped at or after `since` are visible, or at the deadline; stops polling. */
  waitFor(n: number, deadlineMs: number): Promise<void>;
  stop(): Promise<void>;
}

type EventRow = { seq: string; message_id: string; event: string; at: string };

/** Polls `nodes`' events in the pool's schema every `intervalMs`, counting RECEIVE events stamped at or after `since`. */
export function startLagPoller(pool: pg.Pool, nodes: readonly string[], since: number, intervalMs = 50): LagPoller {
  const cursor = new Map(nodes.map((n) => [n, 0]));
  const seen = new Map<string, { at: number; visibleAt: number }>();
  let stopped = false;
  let failure: Error | undefined;
  const poll = async (): Promise<void> => {
    for (const node of nodes) {
      // The time the query is sent: the rows were visible by then (resolution: one interval).
      const visibleAt = Date.now();
      const r = await pool.query<EventRow>('SELECT seq, message_id, event, at FROM trace_event WHERE node = $1 AND seq > $2 ORDER BY seq LIMIT 20000', [node, cursor.get(node) ?? 0]);
      for (const e of r.rows) {
        cursor.set(node, Math.max(cursor.get(node) ?? 0, Number(e.seq)));
        if (e.event === 'RECEIVE' && Number(e.at) >= since && !seen.has(e.message_id)) seen.set(e.message_id, { at: Number(e.at), visibleAt });
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const t0 = Date.now();
      await poll().catch((e: Error) => {
        failure = e;
        stopped = true;
      });
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - t0))));
    }
  })();
  return {
    seen,
    async waitFor(n, deadlineMs) {
      while (!stopped && seen.size < n && Date.now() < deadlineMs) await new Promise((r) => setTimeout(r, intervalMs));
      stopped = true;
      await loop;
      if (failure) throw failure;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** How many of `ids` have a row in trace_message (the rows the lag stands for). */
export async function rowsPresent(pool: pg.Pool, ids: readonly string[]): Promise<number> {
  const r = await pool.query<{ n: string }>('SELECT count(DISTINCT id) AS n FROM trace_message WHERE id = ANY($1::text[])', [ids]);
  return Number(r.rows[0]?.n ?? 0);
}
