/**
 * `mailgate console-user add|list|passwd|remove` through commander with a real data directory:
 * the password comes from stdin and verifies (scrypt), listings never show the hash, a short
 * password or a duplicate is refused (exit 1), a bad scope is a usage error (exit 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { registerConsoleUser } from './commands/console-user.ts';
import { openContext, type CliIo } from './context.ts';
import { exitCodeFor, reportError } from './format.ts';
import { verifyConsoleUser } from '../ops/console-users.ts';
import { removeDir, tempDir } from '../../test/helpers/gateway.ts';

async function run(data: string, args: string[], stdin = ''): Promise<{ out: string; err: string; code: number }> {
  const res = { out: '', err: '', code: 0 };
  const io: CliIo = { out: { write: (s: string) => (res.out += s) }, err: { write: (s: string) => (res.err += s) }, stdin: Object.assign(Readable.from([stdin]), { isTTY: false }) };
  const program = new Command('mailgate').exitOverride().option('--data <dir>', 'data directory');
  program.configureOutput({ writeOut: (s) => (res.out += s), writeErr: (s) => (res.err += s) });
  registerConsoleUser(program, io);
  for (const c of program.commands) for (const s of c.commands) s.exitOverride();
  try {
    await program.parseAsync(['node', 'mailgate', '--data', data, ...args]);
  } catch (e) {
    res.code = reportError(e, io.err);
    assert.equal(res.code, exitCodeFor(e));
  }
  return res;
}

async function verifies(data: string, name: string, pw: string): Promise<boolean> {
  const ctx = openContext({ data });
  try {
    return (await verifyConsoleUser(ctx.db, name, pw)) !== undefined;
  } finally {
    ctx.close();
  }
}

test('console-user add reads the password from stdin; list hides hashes; passwd and remove work; bad input refused', async () => {
  const data = tempDir('mailgate-cuser-');
  try {
    openContext({ data, create: true }).close();
    const added = await run(data, ['console-user', 'add', 'alice', '--scope', 'operate'], 'a long password here\n');
    assert.equal(added.code, 0, added.err);
    assert.equal(added.out, 'console user alice added (scope operate)\n');
    assert.ok(await verifies(data, 'alice', 'a long password here'));
    assert.ok(!(await verifies(data, 'alice', 'a long password herE')));
    const list = await run(data, ['console-user', 'list', '--format', 'json']);
    const rows = JSON.parse(list.out) as { name: string; scope: string }[];
    assert.deepEqual(rows.map((r) => [r.name, r.scope]), [['alice', 'operate']]);
    assert.doesNotMatch(list.out, /scrypt/);
    assert.equal((await run(data, ['console-user', 'add', 'ALICE', '--scope', 'read'], 'another long one\n')).code, 1, 'duplicate (names are case-insensitive)');
    const short = await run(data, ['console-user', 'add', 'bob', '--scope', 'read'], 'short\n');
    assert.equal(short.code, 1);
    assert.match(short.err, /too short/);
    assert.equal((await run(data, ['console-user', 'add', 'bob', '--scope', 'root'], 'a long password here\n')).code, 2);
    assert.equal((await run(data, ['console-user', 'passwd', 'alice'], 'the new long password\n')).code, 0);
    assert.ok(await verifies(data, 'alice', 'the new long password'));
    assert.equal((await run(data, ['console-user', 'remove', 'alice'])).out, 'console user alice removed\n');
    assert.equal((await run(data, ['console-user', 'remove', 'alice'])).code, 1);
  } finally {
    removeDir(data);
  }
});
