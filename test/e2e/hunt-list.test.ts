/**
 * @module test/e2e/hunt-list.test
 * `report hunt --list-saved` needs no store: without a data directory it lists the saved hunts in
 * SQLite's SQL (as on a single node), with one it lists them in that store's SQL.
 * Touches: a temporary directory (never made into a data directory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';

test('report hunt --list-saved without a data directory lists the saved hunts', (t) => {
  const dir = tempDir('mailgate-hunt-list-');
  t.after(() => removeDir(dir));
  const r = cli(join(dir, 'none'), ['report', 'hunt', '--list-saved', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const hunts = JSON.parse(r.stdout) as { name: string; sql: string }[];
  assert.ok(hunts.length > 0);
  assert.ok(hunts.every((h) => /^\s*(SELECT|WITH)\b/i.test(h.sql)), 'each with its SQL');
});
