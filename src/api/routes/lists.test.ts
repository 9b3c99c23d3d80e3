/**
 * @module api/routes/lists.test
 * The allow and block lists over the API as the token: entries sorted into IPs and domains, bad
 * entries refused with the CLI's messages, blocking an accepted domain refused without force (and
 * the reply named with it), removal of an absent entry a 404; 401 without a token, 403 without admin.
 * Touches: a temporary data directory (test/helpers/api).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';

test('lists: add, show, refuse, force, remove; scopes', async () => {
  const f = await apiFixture();
  f.deps.replyText = (key) => (key === 'sender-blocked' ? '550 5.7.1 Sender domain blocked by policy' : key);
  try {
    const url = '/api/v1/lists/block/entries';
    const add = { entries: ['192.0.2.66', 'spam.example.net', '2001:db8::/32', '*.bad.example'] };
    assert.equal((await f.call(undefined, { method: 'GET', url: '/api/v1/lists/block' })).statusCode, 401);
    assert.equal((await f.call(undefined, { method: 'POST', url, payload: add })).statusCode, 401);
    assert.equal((await f.call('operate', { method: 'POST', url, payload: add })).statusCode, 403);
    assert.equal((await f.call('read', { method: 'DELETE', url: `${url}?entries=192.0.2.66` })).statusCode, 403);
    const r = await f.call('admin', { method: 'POST', url, payload: add });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { version: (await f.ctx.store.currentVersion()), added: 4, warnings: [] });
    assert.equal((await f.ctx.store.current())!.actor, 'admin');
    assert.deepEqual((await f.ctx.store.current())!.config.lists.block, { ips: ['192.0.2.66', '2001:db8::/32'], senderDomains: ['spam.example.net', '*.bad.example'] });
    const dup = await f.call('admin', { method: 'POST', url, payload: { entries: ['SPAM.example.net'] } });
    assert.equal(dup.json<{ added: number }>().added, 0);

    const bad = await f.call('admin', { method: 'POST', url, payload: { entries: ['999.1.1.1'] } });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.json<{ detail: string }>().detail, /"999\.1\.1\.1" is not a valid IP address or CIDR/);
    assert.equal((await f.call('admin', { method: 'POST', url, payload: { entries: [] } })).statusCode, 400);
    assert.equal((await f.call('admin', { method: 'POST', url: '/api/v1/lists/grey/entries', payload: add })).statusCode, 400);

    const own = await f.call('admin', { method: 'POST', url, payload: { entries: ['example.com'] } });
    assert.equal(own.statusCode, 422);
    assert.match(own.json<{ detail: string }>().detail, /"example\.com" covers your accepted domain example\.com: .*\(550 5\.7\.1\).*Pass --force/);
    const forced = await f.call('admin', { method: 'POST', url, payload: { entries: ['*.example.com'], force: true, comment: 'ticket 42' } });
    assert.equal(forced.statusCode, 200, forced.body);
    assert.match(forced.json<{ warnings: string[] }>().warnings[0] ?? '', /covers your accepted domain example\.com/);
    assert.equal((await f.ctx.store.current())!.comment, 'ticket 42');

    const shown = await f.call('read', { method: 'GET', url: '/api/v1/lists/block' });
    assert.equal(shown.statusCode, 200);
    assert.deepEqual(shown.json(), [
      { kind: 'ip', entry: '192.0.2.66' },
      { kind: 'ip', entry: '2001:db8::/32' },
      { kind: 'senderDomain', entry: 'spam.example.net' },
      { kind: 'senderDomain', entry: '*.bad.example' },
      { kind: 'senderDomain', entry: '*.example.com' },
    ]);
    const del = await f.call('admin', { method: 'DELETE', url: `${url}?entries=${encodeURIComponent('192.0.2.66,Spam.Example.Net')}` });
    assert.equal(del.statusCode, 200, del.body);
    assert.deepEqual((await f.ctx.store.current())!.config.lists.block.ips, ['2001:db8::/32']);
    const absent = await f.call('admin', { method: 'DELETE', url: '/api/v1/lists/allow/entries?entries=192.0.2.1' });
    assert.equal(absent.statusCode, 404);
    assert.equal(absent.json<{ detail: string }>().detail, 'the allow list does not contain "192.0.2.1"');
    assert.equal((await f.call('admin', { method: 'DELETE', url: '/api/v1/lists/allow/entries' })).statusCode, 400);
    assert.deepEqual((await f.call('read', { method: 'GET', url: '/api/v1/lists/allow' })).json(), []);
  } finally {
    await f.close();
  }
});
