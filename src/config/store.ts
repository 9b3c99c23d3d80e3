/**
 * @module config/store
 * The versioned configuration store, as an interface: every version is a row (who, when, why, the
 * YAML), the highest version is in force. Nothing is saved that does not validate and compile.
 * Adapters (stores/sqlite, stores/postgres) serialise writers so concurrent changes from the CLI,
 * the API and other nodes are never lost, and keep their SQL to themselves; the helpers below are
 * the part of save/update both adapters share.
 * `currentVersion()` is the cheap poll every gateway process runs (config/watch).
 * Touches: nothing itself.
 */
import type { Config } from './schema.ts';
import { configToYaml, defaultConfig, parseConfigText, validateConfig } from './load.ts';

/** One stored version without its content (config history). */
export interface ConfigVersionInfo {
  version: number;
  createdAt: number;
  actor: string;
  comment: string;
}

/** One stored version with its parsed content. */
export interface ConfigVersion extends ConfigVersionInfo {
  config: Config;
}

/** A push channel for new versions (PostgreSQL LISTEN/NOTIFY); the watch still polls as a fallback. */
export interface ConfigListen {
  stop(): Promise<void>;
}

export interface ConfigListenHandlers {
  /** A version was saved (by any node); may repeat or arrive out of order. */
  onVersion(version: number): void;
  /** The listening connection went down (`up` false) or is back (`up` true: poll now to catch up). */
  onState(up: boolean, error?: unknown): void;
}

/** Versioned configuration, behind an async interface (SQLite for one node, PostgreSQL for a fleet). */
export interface ConfigStore {
  /** `sqlite` or `postgres` (logs, metrics, `node list`). */
  readonly kind: string;
  /** The version in force, or undefined when the store is empty. */
  current(): Promise<ConfigVersion | undefined>;
  /** The highest version number (0 when empty). Cheap: the watch polls it. */
  currentVersion(): Promise<number>;
  /** One version, or undefined. Throws ConfigErrors if the stored YAML no longer validates. */
  get(version: number): Promise<ConfigVersion | undefined>;
  /** The newest versions first (content not parsed). */
  history(limit?: number): Promise<ConfigVersionInfo[]>;
  /** Validate, compile and store a new version; returns its number. Nothing is saved on error. */
  save(config: Config, actor: string, comment?: string): Promise<number>;
  /** Seed with `config` as version 1 when empty (safe when several processes start at once); returns the version in force. */
  ensureInitial(config: Config, actor: string, comment?: string): Promise<number>;
  /**
   * Read the current version, let `mutate` change a copy, validate and save it, all under one write
   * lock (no lost updates). Errors thrown by `mutate` or validation leave the store unchanged.
   * Returns the new version, or the current one when the change made no difference.
   */
  update(actor: string, comment: string, mutate: (draft: Config) => void): Promise<number>;
  /** Push notifications of new versions, when the adapter has them (PostgreSQL). */
  listen?(handlers: ConfigListenHandlers): Promise<ConfigListen>;
}

/** The YAML stored for `config` (throws ConfigErrors when it does not validate). */
export function storedYaml(config: Config): string {
  return configToYaml(validateConfig(config));
}

/**
 * What `update` stores: `mutate` applied to a copy of `cur` (defaults when empty), validated; or
 * the version in force when the result equals it (no new version).
 */
export function updatedYaml(cur: ConfigVersion | undefined, mutate: (draft: Config) => void): { yaml: string } | { unchanged: number } {
  const draft = structuredClone(cur?.config ?? defaultConfig());
  mutate(draft);
  const yaml = storedYaml(draft);
  return cur && yaml === configToYaml(cur.config) ? { unchanged: cur.version } : { yaml };
}

/** A stored row as a version (the YAML parsed as stored configuration). */
export function storedVersion(row: ConfigVersionInfo & { yaml: string }): ConfigVersion {
  return {
    version: row.version,
    createdAt: row.createdAt,
    actor: row.actor,
    comment: row.comment,
    config: parseConfigText(row.yaml, `config version ${row.version}`, { stored: true }),
  };
}
