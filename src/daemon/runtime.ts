/**
 * @module daemon/runtime
 * What every gateway process shares: the database, the config store with the current frozen
 * snapshot (swapped whole when a new version appears; a broken version leaves the old one in
 * force), the trace writer, the host name, this node's name and listener overrides. The process
 * that owns the data directory migrates it to this release's data version first
 * (daemon/migrate.ts). With a PostgreSQL store (store.yaml) new versions arrive by NOTIFY with a
 * 5 s poll behind it; a store that cannot be reached leaves the version in force (said once in the
 * log, and in `mailgate_config_store_up`); one that starts while the store is away runs on the
 * version it last ran (daemon/config-cache.ts).
 * Touches: the SQLite store; the PostgreSQL store a fleet node's store.yaml names.
 */
import { hostname as osHostname } from 'node:os';
import type { Logger } from '../core/log.ts';
import { openDatabase, type Db } from '../core/sqlite.ts';
import { applyOverrides, configuredOverrides, ConfigError, defaultNodeName, type ListenOverride, hashPassword, loadExampleConfig, loadSnapshot, snapshotOf, summarizeChange, watchConfig, verifyPassword, type ConfigSnapshot, type ConfigStore, type ConfigWatch } from '../config/index.ts';
import { readConfigCache, writeConfigCache } from './config-cache.ts';
import { openConfigStore, prepareStore, type OpenedConfigStore } from '../stores/open.ts';
import { unknownOverrides } from './node-overrides.ts';
import { TraceWriter, type TraceSink } from '../trace/index.ts';
import type { RuntimeSnapshot } from '../smtp/deps.ts';
import { dataPaths, secureDataDir, type DataPaths } from './paths.ts';
import { migrateDataDir } from './migrate.ts';
import { GatewayMetrics } from '../metrics/index.ts';

export interface Runtime {
  paths: DataPaths;
  db: Db;
  store: ConfigStore;
  /** Where the configuration store is (SQLite here, or the fleet's PostgreSQL schema). */
  backing: OpenedConfigStore;
  /** This node's name (`--node`, default the host name): heartbeats and `node list`. */
  node: string;
  /** Whether the configuration store answered at the last check. */
  storeUp(): boolean;
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
  reload(): Promise<void>;
  verifyPassword(user: string, password: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Seed an empty store and migrate the data directory (the queue owner; not receive workers). */
  seed?: boolean;
  trace?: TraceSink & { close(): void | Promise<void> };
  /** This node's name (default: the host name). */
  node?: string;
  /** This node's listener addresses (`--listen NAME=HOST:PORT`). */
  listen?: readonly ListenOverride[];
}

/** Poll interval of the configuration version: SQLite has no push; PostgreSQL's poll is the fallback behind NOTIFY. */
const POLL_MS = { sqlite: 250, postgres: 5000 } as const;

/** Open the shared runtime of a gateway process. */
export async function openRuntime(dataDir: string, logger: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
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
  let backing: OpenedConfigStore;
  let first: RuntimeSnapshot | undefined;
  const overrides = opts.listen ?? [];
  // Read once: hostname() is asked for every reply and message (a syscall each time otherwise).
  const systemHost = osHostname();
  const node = opts.node ?? defaultNodeName(systemHost);
  // The configuration's entry for this node first, so the command line wins.
  const adjust = (c: Parameters<typeof applyOverrides>[0]) => applyOverrides(c, [...configuredOverrides(c, node), ...overrides]);
  try {
    backing = openConfigStore(paths.dir, db);
  } catch (e) {
    db.close();
    throw e;
  }
  const { store } = backing;
  const fleet = backing.bootstrap.kind === 'postgres';
  let up = true;
  try {
    try {
      if (opts.seed !== false) {
        await prepareStore(backing);
        await store.ensureInitial(loadExampleConfig(), 'mailgate', 'initial configuration (embedded example)');
      }
      first = await loadSnapshot(store, await store.currentVersion(), adjust);
    } catch (e) {
      // A fleet node whose store is away starts on the version it last ran (daemon/config-cache.ts).
      const cached = fleet && !(e instanceof ConfigError) ? readConfigCache(paths.dir) : undefined;
      if (!cached) throw e;
      first = snapshotOf(cached.version, cached.config, adjust);
      up = false;
      logger.error({ store: backing.where, err: e, version: cached.version }, `configuration store unreachable at start; running on the cached configuration version ${cached.version}`);
    }
    if (!first) throw new Error(`no configuration in ${backing.where}`);
    const unknown = unknownOverrides(first.config, overrides);
    if (unknown.length) throw new Error(`--listen: no receive connector named ${unknown.join(', ')}`);
  } catch (e) {
    db.close();
    await backing.close();
    throw e;
  }
  let current: RuntimeSnapshot = first;
  const listeners: Array<(s: RuntimeSnapshot) => void> = [];
  const cache = (s: ConfigSnapshot): void => {
    if (!fleet || opts.seed === false || !s.stored) return; // the queue owner keeps it
    try {
      writeConfigCache(paths.dir, s.version, s.stored);
    } catch (err) {
      logger.warn({ err }, 'configuration cache not written');
    }
  };
  if (up) cache(first);
  const watch: ConfigWatch = watchConfig(
    store,
    (s) => {
      if (s.version === current.version) return;
      const changes = summarizeChange(current.config, s.config);
      current = s;
      cache(s);
      for (const fn of listeners) fn(s);
      void store.history(1).then(
        ([who]) => {
          const by = who?.version === s.version ? { actor: who.actor, comment: who.comment } : {};
          logger.info({ version: s.version, ...by, changes }, `configuration version ${s.version} in force: ${changes}`);
        },
        () => logger.info({ version: s.version, changes }, `configuration version ${s.version} in force: ${changes}`),
      );
    },
    POLL_MS[backing.bootstrap.kind],
    {
      onError: (version, err) => logger.error({ version, err }, 'configuration version refused; keeping the one in force'),
      onStoreState: (isUp, err) => {
        up = isUp;
        if (isUp) logger.info({ store: backing.where }, 'configuration store reachable again');
        else logger.error({ store: backing.where, err, version: current.version }, `configuration store unreachable; keeping configuration version ${current.version} in force`);
      },
      adjust,
    },
  );
  await watch.ready;
  const trace = opts.trace ?? new TraceWriter(db, { logger });
  let dummyHash: Promise<string> | undefined;
  return {
    paths,
    db,
    store,
    backing,
    node,
    storeUp: () => up,
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
      await watch.stop();
      await trace.close();
      db.close();
      await backing.close();
    },
  };
}
