/**
 * @module test/fleet/init.test
 * `mailgate init --store`: usage errors (exit 2), a PostgreSQL that does not answer (exit 1, the
 * URL's password never shown; a later command says so in one line), a directory already on another store (exit 1, nothing changed).
 * Touches: temporary data dirs; connects to a closed loopback port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, freePort, removeDir, tempDir } from '../helpers/gateway.ts';

test('init --store: usage errors, an unreachable server, and a directory already on SQLite', async (t) => {
  const dir = tempDir('mailgate-init-store-');
  t.after(() => removeDir(dir));
  for (const [args, why] of [
    [['init', '--schema', 'x'], /--schema needs --store/],
    [['init', '--store', 'mysql://u:hunter2@h/db'], /--store: a postgres:\/\/.*\(got mysql:\/\/u:\*\*\*@h\/db\)/],
    [['init', '--store', 'postgres://h/db', '--schema', 'Bad-Name'], /--schema: invalid PostgreSQL schema name/],
  ] as const) {
    const r = cli(join(dir, 'a'), [...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stderr, /hunter2/);
  }
  assert.equal(existsSync(join(dir, 'a')), false, 'a refused init creates nothing');

  const closed = await freePort();
  const down = cli(join(dir, 'b'), ['init', '--store', `postgres://postgres:hunter2@127.0.0.1:${closed}/test`]);
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stderr, /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test schema mailgate: .*ECONNREFUSED/);
  assert.doesNotMatch(down.stderr + down.stdout, /hunter2/);
  const later = cli(join(dir, 'b'), ['org', 'set', '--reject-direct-send', 'true']);
  assert.equal(later.code, 1);
  assert.match(later.stderr, /^mailgate: the configuration store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test schema mailgate does not answer \(.*ECONNREFUSED.*\); nothing was changed\n$/);

  const local = join(dir, 'c');
  assert.equal(cli(local, ['init']).code, 0);
  const other = cli(local, ['init', '--store', 'postgres://postgres@127.0.0.1:5432/test']);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /already holds a mailgate store \(SQLite\); use a new --data directory/);
  assert.equal(existsSync(join(local, 'store.yaml')), false);
});
