/**
 * @module stores/sqlite/config-store
 * The configuration store in the embedded SQLite database (one node). Writes use BEGIN IMMEDIATE
 * so two processes (CLI, API, gateway workers) never lose each other's changes. The async methods
 * wrap synchronous better-sqlite3 calls; the `…Now` methods stay synchronous for the CLI's open,
 * test helpers and bench/.
 * Touches: the config_version table of the SQLite database it is given (it does not own the handle).
 */
import type { Db } from '../../core/sqlite.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { Config } from '../../config/schema.ts';
import { storedVersion, storedYaml, updatedYaml, type ConfigStore, type ConfigVersion, type ConfigVersionInfo } from '../../config/store.ts';

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

function toVersion(r: Row): ConfigVersion {
  return storedVersion({ version: r.version, createdAt: r.created_at, actor: r.actor, comment: r.comment, yaml: r.yaml });
}

/** Versioned configuration in SQLite. */
export class SqliteConfigStore implements ConfigStore {
  readonly kind = 'sqlite';

  constructor(
    readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {
    db.exec(SCHEMA);
  }

  /** The version in force, synchronously (tests, bench). */
  currentNow(): ConfigVersion | undefined {
    const row = this.db.prepare('SELECT * FROM config_version ORDER BY version DESC LIMIT 1').get() as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** The highest version, synchronously (the CLI's open and tests). */
  currentVersionNow(): number {
    const row = this.db.prepare('SELECT max(version) AS v FROM config_version').get() as { v: number | null };
    return row.v ?? 0;
  }

  async current(): Promise<ConfigVersion | undefined> {
    return this.currentNow();
  }

  async currentVersion(): Promise<number> {
    return this.currentVersionNow();
  }

  async get(version: number): Promise<ConfigVersion | undefined> {
    return this.getNow(version);
  }

  /** One version, synchronously (tests). */
  getNow(version: number): ConfigVersion | undefined {
    const row = this.db.prepare('SELECT * FROM config_version WHERE version = ?').get(version) as Row | undefined;
    return row ? toVersion(row) : undefined;
  }

  async history(limit = 20): Promise<ConfigVersionInfo[]> {
    const rows = this.db
      .prepare('SELECT version, created_at, actor, comment FROM config_version ORDER BY version DESC LIMIT ?')
      .all(limit) as Omit<Row, 'yaml'>[];
    return rows.map((r) => ({ version: r.version, createdAt: r.created_at, actor: r.actor, comment: r.comment }));
  }

  async save(config: Config, actor: string, comment = ''): Promise<number> {
    return this.saveNow(config, actor, comment);
  }

  /** save, synchronously (test and bench helpers that write a data directory's store). */
  saveNow(config: Config, actor: string, comment = ''): number {
    const yaml = storedYaml(config);
    return this.db.transaction(() => this.insert(yaml, actor, comment)).immediate();
  }

  async ensureInitial(config: Config, actor: string, comment = 'initial configuration'): Promise<number> {
    return this.ensureInitialNow(config, actor, comment);
  }

  /** ensureInitial, synchronously: the check and the insert share one write lock. */
  ensureInitialNow(config: Config, actor: string, comment = 'initial configuration'): number {
    const yaml = storedYaml(config);
    return this.db
      .transaction(() => {
        const v = this.currentVersionNow();
        return v > 0 ? v : this.insert(yaml, actor, comment);
      })
      .immediate();
  }

  async update(actor: string, comment: string, mutate: (draft: Config) => void): Promise<number> {
    return this.db
      .transaction(() => {
        const next = updatedYaml(this.currentNow(), mutate);
        return 'unchanged' in next ? next.unchanged : this.insert(next.yaml, actor, comment);
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
