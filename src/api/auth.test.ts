import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { apiFixture } from '../../test/helpers/api.ts';
import { addToken, listTokens, removeToken, verifyToken } from '../ops/tokens.ts';
import { silentLogger } from '../core/log.ts';
import { ApiAuthThrottle, installAuth, MAX_FAILURES } from './auth.ts';

test('a route without a token is 401 with WWW-Authenticate: Bearer; a bad token too; a good one passes and is the actor', async () => {
  const f = await apiFixture();
  try {
    const none = await f.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(none.statusCode, 401);
    assert.match(none.headers['www-authenticate'] as string, /^Bearer realm="mailgate"$/);
    assert.match(none.headers['content-type'] as string, /^application\/problem\+json/);
    const bad = await f.app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: 'Bearer mgt_not-a-token' } });
    assert.equal(bad.statusCode, 401);
    assert.match(bad.headers['www-authenticate'] as string, /error="invalid_token"/);
    const basic = await f.app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: `Basic ${f.tokens.admin}` } });
    assert.equal(basic.statusCode, 401);
    const ok = await f.call('read', { method: 'GET', url: '/openapi.json' });
    assert.equal(ok.statusCode, 200);
    const read = (await listTokens(f.deps.ops('t'))).find((t) => t.name === 'read');
    assert.ok(read?.lastUsedAt, 'last use recorded');
    const health = await f.app.inject({ method: 'GET', url: '/api/v1/health' });
    assert.equal(health.statusCode, 200, 'a public route needs no token');
  } finally {
    await f.close();
  }
});

test('a revoked or expired token is refused; the secret is never stored or listed', async () => {
  const f = await apiFixture();
  try {
    const ops = f.deps.ops('alice');
    const t = await addToken(ops, { name: 'short', scope: 'read', expiresAt: Date.now() + 60_000 });
    assert.match(t.secret, /^mgt_[A-Za-z0-9_-]{43}$/);
    assert.equal(t.createdBy, 'alice');
    assert.ok(verifyToken(f.ctx.db, t.secret));
    assert.equal(verifyToken(f.ctx.db, t.secret, Date.now() + 120_000), undefined, 'expired');
    const dump = JSON.stringify(f.ctx.db.prepare('SELECT * FROM api_token').all());
    assert.ok(!dump.includes(t.secret) && !dump.includes(t.secret.slice(4)), 'only the hash is stored');
    assert.ok(!JSON.stringify(await listTokens(ops)).includes(t.secret));
    await assert.rejects(addToken(ops, { name: 'SHORT', scope: 'read' }), /token "SHORT" already exists/);
    await assert.rejects(addToken(ops, { name: 'bad name', scope: 'read' }), /token name "bad name"/);
    await removeToken(ops, 'short');
    assert.equal(verifyToken(f.ctx.db, t.secret), undefined, 'revoked');
    await assert.rejects(removeToken(ops, 'short'), /no token named "short"/);
  } finally {
    await f.close();
  }
});

test('a token without the scope is 403 naming both scopes', async () => {
  const f = await apiFixture();
  try {
    const app = Fastify();
    installAuth(app, f.deps);
    app.post('/change', { config: { scope: 'admin' } }, async (req) => ({ actor: req.actor }));
    const r = await app.inject({ method: 'POST', url: '/change', headers: { authorization: `Bearer ${f.tokens.operate}` } });
    assert.equal(r.statusCode, 403);
    assert.match(r.json<{ detail: string }>().detail, /token "operate" has scope operate; this route needs admin/);
    const ok = await app.inject({ method: 'POST', url: '/change', headers: { authorization: `Bearer ${f.tokens.admin}` } });
    assert.deepEqual(ok.json(), { actor: 'admin' });
    await app.close();
  } finally {
    await f.close();
  }
});

test('a route that declares no scope is refused when registered (fail closed)', async () => {
  const app = Fastify();
  installAuth(app, { logger: silentLogger, ops: () => assert.fail('not called'), version: 'x', configVersion: () => 0 });
  assert.throws(() => app.get('/open', async () => 'x'), /GET \/open declares no scope/);
  await app.close();
});

test('bad tokens from one address are throttled with 429 and Retry-After; another address is not', async () => {
  const f = await apiFixture();
  try {
    const from = (ip: string, token: string) => f.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: ip, headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < MAX_FAILURES; i++) assert.equal((await from('192.0.2.7', `mgt_guess${i}`)).statusCode, 401);
    const locked = await from('192.0.2.7', f.tokens.admin);
    assert.equal(locked.statusCode, 429, 'even a good token waits: no oracle while locked');
    assert.ok(Number(locked.headers['retry-after']) > 0);
    assert.equal((await from('192.0.2.8', f.tokens.read)).statusCode, 200);
  } finally {
    await f.close();
  }
});

test('the throttle doubles a repeated lockout and forgets a key after its success', () => {
  const t = new ApiAuthThrottle();
  let until: number | undefined;
  for (let i = 0; i < MAX_FAILURES; i++) until = t.failure('a', 1000);
  assert.equal(until, 1000 + 60_000);
  assert.equal(t.lockedUntil('a', 2000), until);
  for (let i = 0; i < MAX_FAILURES; i++) until = t.failure('a', 70_000);
  assert.equal(until, 70_000 + 120_000);
  t.success('a');
  assert.equal(t.lockedUntil('a', 70_001), undefined);
});

test('a full throttle table evicts unlocked entries first, keeps a locked one while locked, and still counts newcomers', () => {
  const t = new ApiAuthThrottle(3);
  const now = 1_000_000;
  for (let i = 0; i < MAX_FAILURES; i++) t.failure('locked', now);
  assert.ok(t.lockedUntil('locked', now));
  for (let i = 0; i < 50; i++) t.failure(`new${i}`, now);
  assert.ok(t.lockedUntil('locked', now), 'a flood of new keys does not unlock it');
  assert.ok(t.size <= 3, `bounded: ${t.size}`);
  for (let i = 0; i < MAX_FAILURES; i++) t.failure('late', now);
  assert.ok(t.lockedUntil('late', now), 'a newcomer after the flood is counted and locked');
  // Only locked entries left: the table grows past its cap up to twice it, then stops.
  for (let k = 0; k < 10; k++) for (let i = 0; i < MAX_FAILURES; i++) t.failure(`l${k}`, now);
  assert.equal(t.size, 6);
  assert.ok(t.lockedUntil('locked', now) && t.lockedUntil('late', now));
  // Once the locks end, their entries make room again.
  for (let i = 0; i < MAX_FAILURES; i++) t.failure('after', now + 3_600_000);
  assert.ok(t.lockedUntil('after', now + 3_600_000));
  assert.ok(t.size <= 3);
});
