import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';
import { verifyPassword } from '../../config/index.ts';

test('users: add with a password stored as scrypt, change it, list without hashes, remove; refusals carry the CLI messages', async () => {
  const f = await apiFixture();
  try {
    const add = { name: 'scanner@example.com', password: 's3cret pass', sendAs: ['@example.com'] };
    assert.equal((await f.call('read', { method: 'POST', url: '/api/v1/users', payload: add })).statusCode, 403);
    const r = await f.call('admin', { method: 'POST', url: '/api/v1/users', payload: add });
    assert.equal(r.statusCode, 200, r.body);
    const stored = async () => (await f.ctx.store.current())!.config.users.find((u) => u.name === add.name);
    assert.equal(await verifyPassword('s3cret pass', (await stored())?.passwordHash ?? ''), true);
    assert.equal((await f.ctx.store.current())!.actor, 'admin');
    const dup = await f.call('admin', { method: 'POST', url: '/api/v1/users', payload: add });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json<{ detail: string }>().detail, 'user "scanner@example.com" already exists');
    assert.equal((await f.call('admin', { method: 'POST', url: '/api/v1/users', payload: { name: 'x', password: '' } })).statusCode, 400);
    const list = await f.call('read', { method: 'GET', url: '/api/v1/users' });
    assert.ok(list.json<{ name: string }[]>().some((u) => u.name === add.name));
    assert.doesNotMatch(list.body, /scrypt|s3cret/);
    const pw = await f.call('admin', { method: 'PUT', url: `/api/v1/users/${encodeURIComponent(add.name)}/password`, payload: { password: 'n3w' } });
    assert.equal(pw.statusCode, 200, pw.body);
    assert.equal(await verifyPassword('n3w', (await stored())?.passwordHash ?? ''), true);
    const ghost = await f.call('admin', { method: 'PUT', url: '/api/v1/users/ghost/password', payload: { password: 'x' } });
    assert.equal(ghost.statusCode, 404);
    assert.equal(ghost.json<{ detail: string }>().detail, 'no user named "ghost"');
    assert.equal((await f.call('admin', { method: 'DELETE', url: `/api/v1/users/${encodeURIComponent(add.name)}` })).statusCode, 200);
    assert.equal(await stored(), undefined);
  } finally {
    await f.close();
  }
});
