/**
 * @module daemon/trace-shipping
 * On a fleet node (store: postgres), the queue owner ships its local trace to the shared
 * PostgreSQL trace: the outbox triggers are enabled on the node's SQLite file, a TraceShipper
 * sends batches, the outbox backlog and trace lag are exported as metrics, and maintenance runs
 * hourly: retention drops old days in PostgreSQL (the writes create the days ahead), and, when a
 * keep window is set, local rows already shipped and older than it are pruned.
 * PostgreSQL slow or down only grows the outbox: nothing here is on the SMTP path.
 * Touches: the node's SQLite trace tables, the shared trace schema (through the pool).
 */
import type { Pool } from 'pg';
import { pgTraceStore } from '../stores/postgres/trace-store.ts';
import { pruneShipped, setOutboxNode, sqliteOutbox } from '../stores/sqlite/trace-outbox.ts';
import { retentionCutoff, TraceShipper, type TraceStore } from '../trace/index.ts';
import type { Runtime } from './runtime.ts';

export interface FleetTrace {
  pool: Pool;
  schema: string;
  node: string;
  /**
   * Prune local trace rows once shipped and older than this. Default: never early. The node's own
   * trace stays for the trace retention, as on a single node, because the alerts (first-seen
   * sources), policy replay and quarantine views read it locally.
   */
  keepLocalMs?: number | undefined;
}

export interface TraceShipping {
  shipper: TraceShipper;
  store: TraceStore;
  stop(): Promise<void>;
}

const HOUR_MS = 3_600_000;
/** Log an outage once, then at most every minute while it lasts. */
const LOG_EVERY_MS = 60_000;

/** Start shipping (module header); call from the queue owner, stop() before closing the database. */
export function startTraceShipping(rt: Runtime, f: FleetTrace): TraceShipping {
  const store = pgTraceStore({ pool: f.pool, schema: f.schema, node: f.node });
  let lastLog = 0;
  setOutboxNode(rt.db, f.node);
  const shipper = new TraceShipper({
    outbox: sqliteOutbox(rt.db),
    store,
    node: f.node,
    onError: (err, backlog) => {
      if (Date.now() - lastLog < LOG_EVERY_MS) return;
      lastLog = Date.now();
      rt.logger.warn({ err, backlog: backlog.rows }, 'trace shipping to PostgreSQL failed: the outbox keeps the rows and retries');
    },
  });
  shipper.start();
  const maintain = async (): Promise<void> => {
    try {
      const n = await store.prune(retentionCutoff(rt.snapshot().config.trace.retentionDays, Date.now()));
      if (n.messages || n.events) rt.logger.info(n, 'fleet trace retention: pruned');
      if (f.keepLocalMs !== undefined) {
        const local = pruneShipped(rt.db, Date.now() - f.keepLocalMs);
        if (local.messages) rt.logger.info(local, 'local trace: shipped rows pruned');
      }
    } catch (err) {
      rt.logger.warn({ err }, 'fleet trace maintenance failed');
    }
  };
  void maintain();
  const timer = setInterval(() => void maintain(), HOUR_MS);
  timer.unref();
  return {
    shipper,
    store,
    async stop() {
      clearInterval(timer);
      await shipper.stop();
      // A last pass so a clean stop leaves little behind (bounded: a down store fails fast).
      await shipper.drain().catch(() => undefined);
    },
  };
}
