/**
 * @module test/helpers/stored-config
 * The config version in force in a data dir's store, for tests that change it through the CLI.
 * Touches: the data dir's SQLite file.
 */
import assert from 'node:assert/strict';
import { openContext } from '../../src/cli/context.ts';
import type { Config } from '../../src/config/schema.ts';
import type { ConfigStore } from '../../src/config/store.ts';
import { SqliteConfigStore } from '../../src/stores/sqlite/config-store.ts';

/** The store as the SQLite adapter (a test data directory's store), for its synchronous reads. */
export function sqliteStore(store: ConfigStore): SqliteConfigStore {
  assert.ok(store instanceof SqliteConfigStore, 'a SQLite data directory');
  return store;
}

/** The current config of `<data>/mailgate.db` (asserts there is one). */
export function storedConfig(data: string): Config {
  const ctx = openContext({ data });
  try {
    const cur = sqliteStore(ctx.store).currentNow();
    assert.ok(cur);
    return cur.config;
  } finally {
    ctx.close();
  }
}
