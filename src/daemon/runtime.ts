/**
 * @module daemon/runtime
 * What every gateway process shares: the database, the config store with the current frozen
 * snapshot (swapped whole when a new version appears; a broken version leaves the old one in
 * force), the trace writer, the host name. The process that owns the data directory migrates it
 * to this release's data version first (daemon/migrate.ts).
 * Touches: the SQLite store.
 */
import { hostname as osHostname } from 'node:os';
import type { Logger } from '../core/log.ts';
import { openDatabase, type Db } from '../core/sqlite.ts';
import { ConfigStore, hashPassword, loadExampleConfig, loadSnapshot, summarizeChange, watchConfig, verifyPassword, type ConfigWatch } from '../config/index.ts';
import { TraceWriter, type TraceSink } from '../trace/index.ts';
import type { RuntimeSnapshot } from '../smtp/deps.ts';
import { dataPaths, secureDataDir, type DataPaths } from './paths.ts';
import { migrateDataDir } from './migrate.ts';
import { GatewayMetrics } from '../metrics/index.ts';

export interface Runtime {
  paths: DataPaths;
  db: Db;
  store: ConfigStore;
  /** The trace sink: a TraceWriter on `db`, or (receive workers) the link to the queue owner. */
  trace: TraceSink & { close(): void | Promise<void> };
  logger: Logger;
  /** This process's metrics (the queue owner's scrape adds every worker's: daemon/metrics-link.ts). */
  metrics: GatewayMetrics;
  snapshot(): RuntimeSnapshot;
  hostname(): string;
  /** Called after a new version is swapped in. */
  onChange(fn: (s: RuntimeSnapshot) => void): void;
  /** Look for a new configuration version now (SIGHUP) instead of at the next poll. */
  reload(): void;
  verifyPassword(user: string, password: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Open the shared runtime of a gateway process. */
export function openRuntime(dataDir: string, logger: Logger, opts: { seed?: boolean; trace?: TraceSink & { close(): void | Promise<void> } } = {}): Runtime {
  const paths = dataPaths(dataDir);
  const widened = secureDataDir(paths.dir);
  if (widened !== undefined) logger.warn({ dir: paths.dir, was: widened.toString(8) }, 'data directory narrowed to mode 0700');
  const db = openDatabase(paths.db);
  if (opts.seed !== false) {
    try {
      migrateDataDir(db, logger);
    } catch (e) {
      db.close();
      throw e;
    }
  }
  const store = new ConfigStore(db);
  if (opts.seed !== false) store.ensureInitial(loadExampleConfig(), 'mailgate', 'initial configuration (embedded example)');
  const first = loadSnapshot(store, store.currentVersion());
  if (!first) throw new Error('no configuration in the store');
  let current: RuntimeSnapshot = first;
  const listeners: Array<(s: RuntimeSnapshot) => void> = [];
  const watch: ConfigWatch = watchConfig(
    store,
    (s) => {
      if (s.version === current.version) return;
      const changes = summarizeChange(current.config, s.config);
      const who = store.history(1)[0];
      const by = who?.version === s.version ? { actor: who.actor, comment: who.comment } : {};
      current = s;
      logger.info({ version: s.version, ...by, changes }, `configuration version ${s.version} in force: ${changes}`);
      for (const fn of listeners) fn(s);
    },
    250,
    { onError: (version, err) => logger.error({ version, err }, 'configuration version refused; keeping the one in force') },
  );
  const trace = opts.trace ?? new TraceWriter(db, { logger });
  // Read once: hostname() is asked for every reply and message (a syscall each time otherwise).
  const systemHost = osHostname();
  let dummyHash: Promise<string> | undefined;
  return {
    paths,
    db,
    store,
    trace,
    logger,
    metrics: new GatewayMetrics(),
    snapshot: () => current,
    hostname: () => current.config.organization.hostname || systemHost,
    onChange: (fn) => listeners.push(fn),
    reload: () => watch.poll(),
    async verifyPassword(user, password) {
      const u = current.config.users.find((x) => x.name.toLowerCase() === user.toLowerCase());
      if (!u) {
        // Spend the same time as a real check so a missing user is not told apart by timing.
        dummyHash ??= hashPassword('mailgate-timing-equaliser');
        await verifyPassword(password, await dummyHash).catch(() => false);
        return false;
      }
      return verifyPassword(password, u.passwordHash);
    },
    async close() {
      watch.stop();
      await trace.close();
      db.close();
    },
  };
}
