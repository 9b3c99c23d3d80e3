/**
 * @module stores/postgres/migrations/0003-alerts
 * The fleet's alerts (stores/postgres/alert-store.ts): the same columns as a node's SQLite alert
 * table, one open row per kind and key (a partial unique index: two nodes raising the same
 * finding at once meet there), and the time of the last trace-rule evaluation. Times are epoch
 * milliseconds (BIGINT).
 * Touches: DDL in the mailgate schema.
 */
import type { Migration } from './types.ts';

export const m0003Alerts: Migration = {
  version: 3,
  name: 'alerts',
  async up(c) {
    await c.query(`CREATE TABLE alert (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind TEXT NOT NULL,
      key TEXT NOT NULL,
      summary TEXT NOT NULL,
      detail JSONB NOT NULL,
      first_at BIGINT NOT NULL,
      last_at BIGINT NOT NULL,
      count INTEGER NOT NULL DEFAULT 1,
      state TEXT NOT NULL CHECK (state IN ('open', 'acked')),
      acked_by TEXT,
      acked_at BIGINT,
      notified_at BIGINT
    )`);
    await c.query(`CREATE UNIQUE INDEX alert_open ON alert (kind, key) WHERE state = 'open'`);
    await c.query(`CREATE INDEX alert_acked ON alert (kind, key, acked_at) WHERE state = 'acked'`);
    await c.query(`CREATE TABLE alert_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)`);
  },
};
