/**
 * `mailgate token add|list|remove` through commander with a real data directory: the secret is
 * printed once and verifies, listings never show it, a removed token no longer verifies, bad
 * scopes and dates are usage errors (exit 2) and a duplicate is refused (exit 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { registerToken } from './commands/token.ts';
import { openContext, type CliIo } from './context.ts';
import { exitCodeFor, reportError } from './format.ts';
import { verifyToken } from '../ops/tokens.ts';
import { removeDir, tempDir } from '../../test/helpers/gateway.ts';

async function run(data: string, args: string[]): Promise<{ out: string; err: string; code: number }> {
  const res = { out: '', err: '', code: 0 };
  const io: CliIo = { out: { write: (s: string) => (res.out += s) }, err: { write: (s: string) => (res.err += s) }, stdin: Object.assign(Readable.from([]), { isTTY: false }) };
  const program = new Command('mailgate').exitOverride().option('--data <dir>', 'data directory');
  program.configureOutput({ writeOut: (s) => (res.out += s), writeErr: (s) => (res.err += s) });
  registerToken(program, io);
  for (const c of program.commands) for (const s of c.commands) s.exitOverride();
  try {
    await program.parseAsync(['node', 'mailgate', '--data', data, ...args]);
  } catch (e) {
    res.code = reportError(e, io.err);
    assert.equal(res.code, exitCodeFor(e));
  }
  return res;
}

test('token add prints the secret once; list shows use but never the secret; remove revokes', async () => {
  const data = tempDir('mailgate-token-');
  try {
    openContext({ data, create: true }).close();
    const added = await run(data, ['token', 'add', 'grafana', '--scope', 'read', '--expires', '2999-01-01']);
    assert.equal(added.code, 0, added.err);
    const secret = added.out.trim();
    assert.match(secret, /^mgt_[A-Za-z0-9_-]{43}$/);
    assert.match(added.err, /token grafana added \(scope read, expires 2999-01-01T00:00:00\.000Z\); its secret follows and is not shown again/);
    const ctx = openContext({ data });
    try {
      assert.equal(verifyToken(ctx.db, secret)?.name, 'grafana');
    } finally {
      ctx.close();
    }
    const list = await run(data, ['token', 'list', '--format', 'json']);
    const rows = JSON.parse(list.out) as { name: string; scope: string; lastUsedAt: string; expiresAt: string }[];
    assert.deepEqual(rows.map((r) => [r.name, r.scope, r.expiresAt]), [['grafana', 'read', '2999-01-01T00:00:00.000Z']]);
    assert.ok(rows[0]?.lastUsedAt, 'the verification above was recorded');
    assert.ok(!list.out.includes(secret.slice(4)));
    assert.equal((await run(data, ['token', 'add', 'GRAFANA', '--scope', 'admin'])).code, 1);
    assert.equal((await run(data, ['token', 'add', 'x', '--scope', 'root'])).code, 2);
    assert.equal((await run(data, ['token', 'add', 'x', '--scope', 'read', '--expires', 'tomorrow'])).code, 2);
    const past = await run(data, ['token', 'add', 'x', '--scope', 'read', '--expires', '2001-01-01']);
    assert.equal(past.code, 1);
    assert.match(past.err, /the expiry date is not in the future/);
    assert.equal((await run(data, ['token', 'remove', 'grafana'])).out, 'token grafana removed\n');
    const again = await run(data, ['token', 'remove', 'grafana']);
    assert.equal(again.code, 1);
    assert.equal(again.err, 'mailgate: no token named "grafana"\n');
    const ctx2 = openContext({ data });
    try {
      assert.equal(verifyToken(ctx2.db, secret), undefined);
    } finally {
      ctx2.close();
    }
  } finally {
    removeDir(data);
  }
});
