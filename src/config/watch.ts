/**
 * @module config/watch
 * Keeps a gateway process on the newest configuration: polls the store's version number (cheap),
 * and when it moves, loads, compiles and deep-freezes the new version and hands the whole snapshot
 * to `onChange` (swap whole, never patch). A version that fails to load or compile is reported
 * and skipped; the snapshot in force stays in force.
 * Touches: the config store (reads only); timers.
 */
import type { PolicySnapshot } from '../policy/types.ts';
import type { Config } from './schema.ts';
import type { ConfigStore } from './store.ts';
import { compilePolicy } from './compile.ts';

/** A loaded, compiled, frozen configuration version. */
export interface ConfigSnapshot {
  version: number;
  config: Readonly<Config>;
  policy: PolicySnapshot;
}

export interface WatchOptions {
  /** Called when a version cannot be loaded or compiled (default: a line on stderr). */
  onError?: (version: number, error: unknown) => void;
}

export interface ConfigWatch {
  stop(): void;
  /** Check now (also done every interval). */
  poll(): void;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/** Load and compile one version. Throws on a version that does not validate or compile. */
export function loadSnapshot(store: ConfigStore, version: number): ConfigSnapshot | undefined {
  const v = store.get(version);
  if (!v) return undefined;
  const policy = compilePolicy(v.config, v.version);
  return { version: v.version, config: deepFreeze(v.config), policy };
}

function defaultOnError(version: number, error: unknown): void {
  const msg = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mailgate: config version ${version} refused, keeping the version in force: ${msg}\n`);
}

/**
 * Poll `store.currentVersion()` every `intervalMs`; call `onChange` once at start (if the store has
 * a version) and then for every new version that compiles. The timer does not keep the process alive.
 */
export function watchConfig(
  store: ConfigStore,
  onChange: (snapshot: ConfigSnapshot) => void,
  intervalMs = 250,
  opts: WatchOptions = {},
): ConfigWatch {
  const onError = opts.onError ?? defaultOnError;
  let seen = 0;
  const poll = (): void => {
    let version: number;
    try {
      version = store.currentVersion();
    } catch (e) {
      onError(seen, e);
      return;
    }
    if (version === seen || version === 0) return;
    seen = version;
    let snapshot: ConfigSnapshot | undefined;
    try {
      snapshot = loadSnapshot(store, version);
    } catch (e) {
      onError(version, e);
      return;
    }
    if (snapshot) onChange(snapshot);
  };
  poll();
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), poll };
}
