/**
 * @module stores/postgres/alert-lock
 * Which node of a fleet evaluates the alert rules that read the fleet's trace: the one holding a
 * session advisory lock on the schema's alert key, on a connection of its own (outside the pool,
 * whose few connections the rest of the node needs). Held across evaluations, not per
 * evaluation, so one node reads the fleet's trace for these rules; the fleet's alert store
 * (stores/postgres/alert-store) deduplicates what a new holder finds again. The holder keeps the
 * role until its process ends or its connection drops (the session ends and PostgreSQL frees the
 * lock); another node takes it at its next evaluation. A holder cut off without a reset (a
 * partition, a power loss) must not keep the role for the kernel's 2 h: TCP keepalives on both
 * ends end the session within about a minute, and the holder's own check gives up after a few
 * seconds instead of waiting for retransmits.
 * Touches: one connection (the pool's settings) while held or being tried; pg_try_advisory_lock.
 */
import pg from 'pg';

/** Seconds of silence before either end probes the lock's connection. */
const KEEPALIVE_S = 30;
/** The holder's check (and a try) gives up after this long: a silent holder is not a holder. */
const CHECK_TIMEOUT_MS = 5_000;

export interface FleetAlertLock {
  /** True when this node holds the lock (checked on its connection), or has just taken it. */
  held(): Promise<boolean>;
  /** Give the lock up (its connection is closed). */
  close(): Promise<void>;
}

/** The lock of schema `schema`'s fleet, connecting as `pool` does (module header). */
export function fleetAlertLock(pool: pg.Pool, schema: string): FleetAlertLock {
  const key = `mailgate.alerts.${schema}`;
  let client: pg.Client | undefined;
  const drop = async (): Promise<void> => {
    const c = client;
    client = undefined;
    if (!c) return;
    // A silent link would hold end() until TCP gives up: bounded, then the socket is destroyed.
    const ended = c.end().catch(() => undefined);
    const late = await Promise.race([ended.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), CHECK_TIMEOUT_MS).unref())]);
    if (late) (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  const alive = async (): Promise<boolean> => {
    if (!client) return false;
    try {
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  };
  return {
    held: async () => {
      if (await alive()) return true;
      await drop();
      const o = pool.options;
      const c = new pg.Client({
        ...o,
        keepAlive: true,
        keepAliveInitialDelayMillis: KEEPALIVE_S * 1000,
        query_timeout: CHECK_TIMEOUT_MS,
        connectionTimeoutMillis: CHECK_TIMEOUT_MS,
        // The server side: PostgreSQL probes this session and ends it (freeing the lock) when the node is gone.
        options: `${o.options ?? ''} -c tcp_keepalives_idle=${KEEPALIVE_S} -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3`.trim(),
      });
      // A dropped connection must not crash the process: the next check notices it.
      c.on('error', () => {});
      try {
        await c.connect();
        if ((await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [key])).rows[0]?.ok === true) {
          client = c;
          return true;
        }
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
      await c.end().catch(() => undefined);
      return false;
    },
    close: drop, // the session's end frees the lock
  };
}
