/**
 * @module config/store
 * The versioned configuration store: every version is a row (who, when, why, the YAML), the
 * highest version is in force. Nothing is saved that does not validate and compile. Writes use
 * BEGIN IMMEDIATE so two processes (CLI, API, gateway workers) never lose each other's changes.
 * `currentVersion()` is the cheap poll every gateway process runs (config/watch).
 * Touches: the config_version table of the SQLite database it is given.
 */
import type { Db } from '../core/sqlite.ts';
import { systemClock, type Clock } from '../core/clock.ts';
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

interface Row {
  version: number;
  created_at: number;
  actor: string;
  comment: string;
  yaml: string;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS config_version (
  version INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  yaml TEXT NOT NULL
)`;

/** Versioned configuration in SQLite. */
export class ConfigStore {
  constructor(
    readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {
    db.exec(SCHEMA);
  }

  /** The version in force, or undefined when the store is empty. */
  current(): ConfigVersion | undefined {
    const row = this.db.prepare('SELECT * FROM config_version ORDER BY version DESC LIMIT 1').get() as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** The highest version number (0 when empty). Cheap: polled every 250 ms by each gateway process. */
  currentVersion(): number {
    const row = this.db.prepare('SELECT max(version) AS v FROM config_version').get() as { v: number | null };
    return row.v ?? 0;
  }

  /** One version, or undefined. Throws ConfigErrors if the stored YAML no longer validates. */
  get(version: number): ConfigVersion | undefined {
    const row = this.db.prepare('SELECT * FROM config_version WHERE version = ?').get(version) as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** The newest versions first (content not parsed). */
  history(limit = 20): ConfigVersionInfo[] {
    const rows = this.db
      .prepare('SELECT version, created_at, actor, comment FROM config_version ORDER BY version DESC LIMIT ?')
      .all(limit) as Omit<Row, 'yaml'>[];
    return rows.map((r) => ({ version: r.version, createdAt: r.created_at, actor: r.actor, comment: r.comment }));
  }

  /** Validate, compile and store a new version; returns its number. Nothing is saved on error. */
  save(config: Config, actor: string, comment = ''): number {
    const yaml = configToYaml(validateConfig(config));
    return this.db.transaction(() => this.insert(yaml, actor, comment)).immediate();
  }

  /**
   * Seed the store with `config` as version 1 when it is empty; returns the version in force.
   * Safe when several processes start at once: the check and the insert share one write lock.
   */
  ensureInitial(config: Config, actor: string, comment = 'initial configuration'): number {
    const yaml = configToYaml(validateConfig(config));
    return this.db
      .transaction(() => {
        const v = this.currentVersion();
        return v > 0 ? v : this.insert(yaml, actor, comment);
      })
      .immediate();
  }

  /**
   * Read the current version, let `mutate` change a copy, validate and save it, all under one write
   * lock (no lost updates). Errors thrown by `mutate` or validation leave the store unchanged.
   * Returns the new version, or the current one when the change made no difference.
   */
  update(actor: string, comment: string, mutate: (draft: Config) => void): number {
    return this.db
      .transaction(() => {
        const cur = this.current();
        const draft = structuredClone(cur?.config ?? defaultConfig());
        mutate(draft);
        const yaml = configToYaml(validateConfig(draft));
        if (cur && yaml === configToYaml(cur.config)) return cur.version;
        return this.insert(yaml, actor, comment);
      })
      .immediate();
  }

  private insert(yaml: string, actor: string, comment: string): number {
    const info = this.db
      .prepare('INSERT INTO config_version (created_at, actor, comment, yaml) VALUES (?, ?, ?, ?)')
      .run(this.clock.now(), actor, comment, yaml);
    return Number(info.lastInsertRowid);
  }
}

function toVersion(row: Row): ConfigVersion {
  return {
    version: row.version,
    createdAt: row.created_at,
    actor: row.actor,
    comment: row.comment,
    config: parseConfigText(row.yaml, `config version ${row.version}`, { stored: true }),
  };
}
