/**
 * @module config/watch
 * Keeps a gateway process on the newest configuration: polls the store's version number (cheap),
 * and — when the store pushes changes (PostgreSQL LISTEN/NOTIFY) — checks at once on every push;
 * the poll stays as the fallback that catches a missed notification. When the version moves it
 * loads, compiles and deep-freezes the new version and hands the whole snapshot to `onChange`
 * (swap whole, never patch). A version that fails to load or compile is reported and skipped; the
 * snapshot in force stays in force, and so does it while the store cannot be reached (reported
 * once through `onStoreState`, and again when the store is back).
 * Touches: the config store (reads only); timers.
 */
import type { PolicySnapshot } from '../policy/types.ts';
import type { Config } from './schema.ts';
import type { ConfigListen, ConfigStore } from './store.ts';
import { compilePolicy, ConfigError } from './compile.ts';

/** A loaded, compiled, frozen configuration version. */
export interface ConfigSnapshot {
  version: number;
  config: Readonly<Config>;
  policy: PolicySnapshot;
  /** The version as stored, before this process's `adjust` (what a fleet node caches). */
  stored?: Readonly<Config>;
}

export interface WatchOptions {
  /** Called when a version cannot be loaded or compiled (default: a line on stderr). */
  onError?: (version: number, error: unknown) => void;
  /** Called when the store becomes unreachable (`up` false) and when it is reachable again. */
  onStoreState?: (up: boolean, error?: unknown) => void;
  /** Subscribe to the store's pushes when it has them (default true). */
  listen?: boolean;
  /** This process's changes to every version before it is compiled (a node's listener addresses). */
  adjust?: (config: Config) => Config;
}

export interface ConfigWatch {
  stop(): Promise<void>;
  /** Check now (also done every interval and on every push); resolves when the check is done. */
  poll(): Promise<void>;
  /** Resolves once the first check and the push subscription (if any) are in place. */
  ready: Promise<void>;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/** Load and compile one version (after `adjust`). Throws on a version that does not validate or compile. */
export async function loadSnapshot(store: ConfigStore, version: number, adjust?: (config: Config) => Config): Promise<ConfigSnapshot | undefined> {
  const v = await store.get(version);
  return v ? snapshotOf(v.version, v.config, adjust) : undefined;
}

/** Compile and freeze one version's configuration (after `adjust`). Throws when it does not compile. */
export function snapshotOf(version: number, stored: Config, adjust?: (config: Config) => Config): ConfigSnapshot {
  const config = adjust ? adjust(structuredClone(stored)) : stored;
  const policy = compilePolicy(config, version);
  return { version, config: deepFreeze(config), policy, stored: deepFreeze(stored) };
}

function defaultOnError(version: number, error: unknown): void {
  const msg = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mailgate: config version ${version} refused, keeping the version in force: ${msg}\n`);
}

/**
 * Poll `store.currentVersion()` every `intervalMs` (and on every push); call `onChange` once at
 * start (if the store has a version) and then for every new version that compiles. Checks never
 * overlap: a check asked for while one runs runs once more after it. Timers do not keep the
 * process alive.
 */
export function watchConfig(
  store: ConfigStore,
  onChange: (snapshot: ConfigSnapshot) => void,
  intervalMs = 250,
  opts: WatchOptions = {},
): ConfigWatch {
  const onError = opts.onError ?? defaultOnError;
  let seen = 0;
  let up: boolean | undefined;
  let stopped = false;
  const setUp = (next: boolean, e?: unknown): void => {
    if (up === next) return;
    const first = up === undefined;
    up = next;
    if (!(first && next)) opts.onStoreState?.(next, e);
  };

  const check = async (): Promise<void> => {
    let version: number;
    try {
      version = await store.currentVersion();
    } catch (e) {
      setUp(false, e);
      return;
    }
    setUp(true);
    if (version === seen || version === 0 || stopped) return;
    let snapshot: ConfigSnapshot | undefined;
    try {
      snapshot = await loadSnapshot(store, version, opts.adjust);
    } catch (e) {
      // A version that does not validate or compile is skipped for good; a store error is retried.
      if (!(e instanceof ConfigError)) {
        setUp(false, e);
        return;
      }
      seen = version;
      onError(version, e);
      return;
    }
    seen = version;
    if (snapshot && !stopped) onChange(snapshot);
  };

  let running: Promise<void> | undefined;
  let again = false;
  const poll = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await check();
      } while (again && !stopped);
    })().finally(() => (running = undefined));
    return running;
  };

  let listening: ConfigListen | undefined;
  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  const ready = (async () => {
    await poll();
    if (opts.listen !== false && store.listen) {
      listening = await store.listen({
        onVersion: (v) => {
          if (v > seen) void poll();
        },
        // Back up after an outage: catch up at once (what was saved meanwhile sent no notification to us).
        onState: (isUp, e) => (isUp ? void poll() : setUp(false, e)),
      });
      if (stopped) await listening.stop();
    }
  })();
  return {
    ready,
    poll,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await ready.catch(() => {});
      await listening?.stop();
      await running;
    },
  };
}
