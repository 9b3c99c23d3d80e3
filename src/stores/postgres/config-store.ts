/**
 * @module stores/postgres/config-store
 * The configuration store in PostgreSQL, shared by every node of a fleet. Writers serialise on a
 * transaction-scoped advisory lock (the counterpart of SQLite's BEGIN IMMEDIATE: the read of the
 * version in force and the insert of the next one cannot interleave, so no change is lost and
 * versions are gap-free in commit order). The saving transaction sends `NOTIFY mailgate_config`
 * (payload `schema:version`), delivered at commit to every node LISTENing (config-listen.ts).
 * Touches: config_version in the mailgate schema (migrations/0001-config.ts).
 */
import { systemClock, type Clock } from '../../core/clock.ts';
import type { Config } from '../../config/schema.ts';
import {
  storedVersion,
  storedYaml,
  updatedYaml,
  type ConfigListen,
  type ConfigListenHandlers,
  type ConfigStore,
  type ConfigVersion,
  type ConfigVersionInfo,
} from '../../config/store.ts';
import { inTransaction, type PgClient, type PgPool } from './pool.ts';
import { listenConfig, CONFIG_CHANNEL } from './config-listen.ts';

interface Row {
  version: string;
  created_at: string;
  actor: string;
  comment: string;
  yaml: string;
}

// BIGINT columns arrive as strings from pg; versions and epoch ms fit a double exactly.
function info(r: Omit<Row, 'yaml'>): ConfigVersionInfo {
  return { version: Number(r.version), createdAt: Number(r.created_at), actor: r.actor, comment: r.comment };
}

const LOCK = "SELECT pg_advisory_xact_lock(hashtext('mailgate.config.' || current_schema()))";

export interface PgConfigStoreOptions {
  pool: PgPool;
  /** For the LISTEN connection (its own client, outside the pool). */
  url: string;
  schema: string;
  clock?: Clock;
}

/** Versioned configuration in PostgreSQL. */
export class PgConfigStore implements ConfigStore {
  readonly kind = 'postgres';
  private readonly clock: Clock;

  constructor(private readonly opts: PgConfigStoreOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  async current(): Promise<ConfigVersion | undefined> {
    const r = await this.opts.pool.query<Row>('SELECT * FROM config_version ORDER BY version DESC LIMIT 1');
    return r.rows[0] ? toVersion(r.rows[0]) : undefined;
  }

  async currentVersion(): Promise<number> {
    const r = await this.opts.pool.query<{ v: string | null }>('SELECT max(version) AS v FROM config_version');
    return Number(r.rows[0]?.v ?? 0);
  }

  async get(version: number): Promise<ConfigVersion | undefined> {
    const r = await this.opts.pool.query<Row>('SELECT * FROM config_version WHERE version = $1', [version]);
    return r.rows[0] ? toVersion(r.rows[0]) : undefined;
  }

  async history(limit = 20): Promise<ConfigVersionInfo[]> {
    const r = await this.opts.pool.query<Omit<Row, 'yaml'>>('SELECT version, created_at, actor, comment FROM config_version ORDER BY version DESC LIMIT $1', [limit]);
    return r.rows.map(info);
  }

  async save(config: Config, actor: string, comment = ''): Promise<number> {
    const yaml = storedYaml(config);
    return inTransaction(this.opts.pool, async (c) => {
      await c.query(LOCK);
      return this.insert(c, yaml, actor, comment);
    });
  }

  async ensureInitial(config: Config, actor: string, comment = 'initial configuration'): Promise<number> {
    const yaml = storedYaml(config);
    return inTransaction(this.opts.pool, async (c) => {
      await c.query(LOCK);
      const r = await c.query<{ v: string | null }>('SELECT max(version) AS v FROM config_version');
      const v = Number(r.rows[0]?.v ?? 0);
      return v > 0 ? v : this.insert(c, yaml, actor, comment);
    });
  }

  async update(actor: string, comment: string, mutate: (draft: Config) => void): Promise<number> {
    return inTransaction(this.opts.pool, async (c) => {
      await c.query(LOCK);
      const r = await c.query<Row>('SELECT * FROM config_version ORDER BY version DESC LIMIT 1');
      const next = updatedYaml(r.rows[0] ? toVersion(r.rows[0]) : undefined, mutate);
      return 'unchanged' in next ? next.unchanged : this.insert(c, next.yaml, actor, comment);
    });
  }

  listen(handlers: ConfigListenHandlers): Promise<ConfigListen> {
    return listenConfig(this.opts.url, this.opts.schema, handlers);
  }

  private async insert(c: PgClient, yaml: string, actor: string, comment: string): Promise<number> {
    const r = await c.query<{ version: string }>(
      `INSERT INTO config_version (version, created_at, actor, comment, yaml)
       SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4 FROM config_version RETURNING version`,
      [this.clock.now(), actor, comment, yaml],
    );
    const version = Number(r.rows[0]?.version);
    await c.query('SELECT pg_notify($1, $2)', [CONFIG_CHANNEL, `${this.opts.schema}:${version}`]);
    return version;
  }
}

function toVersion(r: Row): ConfigVersion {
  return storedVersion({ ...info(r), yaml: r.yaml });
}
