/**
 * @module ops/context
 * What every application-layer function runs with: the data directory's database and
 * configuration store, and who is acting (a login name from the CLI, a token's name from the API),
 * recorded with every change. CLI, API and web build one and call the same ops/ functions.
 * Touches: nothing itself (the handles are opened by the caller).
 */
import type { Db } from '../core/sqlite.ts';
import type { ConfigStore, NodeStore } from '../config/index.ts';
import type { TraceStore } from '../trace/index.ts';
import type { AlertStore } from '../alerts/index.ts';

export interface OpsContext {
  db: Db;
  store: ConfigStore;
  /** The fleet's node heartbeats (same store as the configuration); absent where none was opened. */
  nodes?: NodeStore | undefined;
  /** This node's name on a fleet (`serve --node`; the CLI: the name its queue owner ships as). */
  node?: string | undefined;
  dataDir: string;
  /** Who is acting: recorded in configuration history and in RELEASE/DELETE trace events. */
  actor: string;
  /**
   * The trace every ops/ read goes through: on a single node the SQLite adapter over `db` (the
   * same handle, not closed by it), on a fleet node the fleet's shared trace (PostgreSQL).
   * Writes that must commit with local state (quarantine's RELEASE/DELETE events) stay on `db`.
   */
  trace: TraceStore;
  /**
   * On a fleet node: ship the node's local trace outbox to the shared trace now, resolving to the
   * rows shipped (work done with no gateway running on the data directory, e.g. an import, whose
   * rows would otherwise wait for the next `serve`). Absent on a single node.
   */
  shipTrace?: (() => Promise<number>) | undefined;
  /**
   * The alert store: the data directory's SQLite file, or on a fleet node the fleet's PostgreSQL
   * store. Absent (a context opened without one): alerts cannot be listed or acknowledged.
   */
  alerts?: AlertStore | undefined;
}
