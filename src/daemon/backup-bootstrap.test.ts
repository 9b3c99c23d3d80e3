import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContext } from '../cli/context.ts';
import { readBootstrap, writeBootstrap } from '../stores/bootstrap.ts';
import { backupDataDir, restoreDataDir } from './backup.ts';

test('backup and restore carry a fleet node\'s store.yaml (0600); a restore without one leaves the directory on SQLite', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mailgate-backup-bootstrap-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const data = join(root, 'data');
  await openContext({ data, create: true }).close();
  mkdirSync(join(data, 'spool'), { recursive: true });
  const plain = join(root, 'plain');
  await backupDataDir(data, plain);
  writeBootstrap(data, { kind: 'postgres', url: 'postgres://mailgate:pw@db.example:5432/mail', schema: 'fleet_a' });
  const fleet = join(root, 'fleet');
  await backupDataDir(data, fleet);
  assert.equal(statSync(join(fleet, 'store.yaml')).mode & 0o777, 0o600);
  const back = join(root, 'back');
  restoreDataDir(fleet, back);
  assert.deepEqual(readBootstrap(back), { kind: 'postgres', url: 'postgres://mailgate:pw@db.example:5432/mail', schema: 'fleet_a' });
  assert.equal(statSync(join(back, 'store.yaml')).mode & 0o777, 0o600);
  restoreDataDir(plain, back, { force: true });
  assert.deepEqual(readBootstrap(back), { kind: 'sqlite' }, 'the restored directory is the one backed up: SQLite');
  assert.match(readFileSync(join(fleet, 'store.yaml'), 'utf8'), /kind: postgres/);
});
