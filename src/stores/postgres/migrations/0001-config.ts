/**
 * @module stores/postgres/migrations/0001-config
 * The configuration versions (one row each; the highest is in force) and the fleet's node
 * heartbeats. Times are epoch milliseconds (BIGINT), as in the SQLite store.
 * Touches: DDL in the mailgate schema.
 */
import type { Migration } from './types.ts';

export const m0001Config: Migration = {
  version: 1,
  name: 'config',
  async up(c) {
    await c.query(`CREATE TABLE config_version (
      version BIGINT PRIMARY KEY,
      created_at BIGINT NOT NULL,
      actor TEXT NOT NULL,
      comment TEXT NOT NULL DEFAULT '',
      yaml TEXT NOT NULL
    )`);
    await c.query(`CREATE TABLE node (
      name TEXT PRIMARY KEY,
      software_version TEXT NOT NULL,
      config_version BIGINT NOT NULL,
      queue_depth INTEGER NOT NULL DEFAULT 0,
      started_at BIGINT NOT NULL,
      last_seen BIGINT NOT NULL
    )`);
  },
};
