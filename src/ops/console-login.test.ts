import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { openContext } from '../cli/context.ts';
import { removeDir, tempDir } from '../../test/helpers/gateway.ts';
import { addConsoleUser } from './console-users.ts';
import { ensureFirstLogin, loginWithToken, resumeSession } from './console-login.ts';
import { addToken, firstLoginPath, listTokens, removeToken, verifyToken } from './tokens.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';

test('first run: one admin token in a 0600 file when nobody can log in; never again while a token or console user exists; removing it deletes the file', async () => {
  const dir = tempDir('mailgate-first-login-');
  const ctx = openContext({ data: dir, create: true });
  try {
    const ops = { db: ctx.db, store: ctx.store, dataDir: ctx.dataDir, actor: 'mailgate serve', trace: sqliteTraceStore(ctx.db) };
    const file = await ensureFirstLogin(ops);
    assert.equal(file, firstLoginPath(ctx.dataDir));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const secret = readFileSync(file, 'utf8').trim();
    assert.deepEqual([verifyToken(ctx.db, secret)?.name, verifyToken(ctx.db, secret)?.scope], ['console-first-login', 'admin']);
    assert.equal(await ensureFirstLogin(ops), undefined, 'a token exists');
    const opened = loginWithToken(ctx.db, secret);
    assert.ok(opened);
    await removeToken(ops, 'console-first-login');
    assert.equal(existsSync(file), false, 'the dead secret is not left lying around');
    assert.equal(resumeSession(ctx.db, opened.secret), undefined, 'its session ended');
    await addConsoleUser(ops, { name: 'alice', scope: 'admin', password: 'a long password' });
    assert.equal(await ensureFirstLogin(ops), undefined, 'a console user exists');
    assert.deepEqual(await listTokens(ops), []);
    await addToken(ops, { name: 'other', scope: 'read' });
    await removeToken(ops, 'other');
  } finally {
    ctx.close();
    removeDir(dir);
  }
});

test('first run: a token file left world-readable from before is made anew at 0600', async () => {
  const dir = tempDir('mailgate-first-login-');
  const ctx = openContext({ data: dir, create: true });
  try {
    const ops = { db: ctx.db, store: ctx.store, dataDir: ctx.dataDir, actor: 'mailgate serve', trace: sqliteTraceStore(ctx.db) };
    writeFileSync(firstLoginPath(ctx.dataDir), 'stale\n', { mode: 0o644 });
    chmodSync(firstLoginPath(ctx.dataDir), 0o644);
    const file = await ensureFirstLogin(ops);
    assert.ok(file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.notEqual(readFileSync(file, 'utf8').trim(), 'stale');
  } finally {
    await ctx.close();
    removeDir(dir);
  }
});
