/**
 * @module test/helpers/stored-config
 * The config version in force in a data dir's store, for tests that change it through the CLI.
 * Touches: the data dir's SQLite file.
 */
import assert from 'node:assert/strict';
import { openContext } from '../../src/cli/context.ts';
import type { Config } from '../../src/config/schema.ts';

/** The current config of `<data>/mailgate.db` (asserts there is one). */
export function storedConfig(data: string): Config {
  const ctx = openContext({ data });
  try {
    const cur = ctx.store.current();
    assert.ok(cur);
    return cur.config;
  } finally {
    ctx.close();
  }
}
