import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';

test('listeners: add, show, change, remove as the token; a clash, an unknown name and the last listener are refused with the CLI messages', async () => {
  const f = await apiFixture();
  try {
    const existing = (await f.call('read', { method: 'GET', url: '/api/v1/listeners' })).json<{ name: string; bind: string; port: number }[]>();
    assert.ok(existing.length > 0);
    assert.equal((await f.call('operate', { method: 'POST', url: '/api/v1/listeners', payload: { name: 'devices', port: 2526 } })).statusCode, 403);
    const add = await f.call('admin', { method: 'POST', url: '/api/v1/listeners', payload: { name: 'devices', port: 2526, role: 'relay', remoteIPRanges: ['192.0.2.0/24'] } });
    assert.equal(add.statusCode, 200, add.body);
    assert.equal((await f.ctx.store.current())!.comment, 'listener add devices');
    assert.equal((await f.ctx.store.current())!.actor, 'admin');
    const shown = (await f.call('read', { method: 'GET', url: '/api/v1/listeners/devices' })).json<{ role: string; remoteIPRanges: string[]; tls: { mode: string } }>();
    assert.equal(shown.role, 'relay');
    assert.deepEqual(shown.remoteIPRanges, ['192.0.2.0/24']);
    const dup = await f.call('admin', { method: 'POST', url: '/api/v1/listeners', payload: { name: 'Devices', port: 2527 } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json<{ detail: string }>().detail, 'listener "Devices" already exists');
    const first = existing[0]!;
    const clash = await f.call('admin', { method: 'PATCH', url: '/api/v1/listeners/devices', payload: { bind: first.bind, port: first.port } });
    assert.equal(clash.statusCode, 422, clash.body);
    assert.match(clash.json<{ detail: string }>().detail, /receiveConnectors/);
    const tls = await f.call('admin', { method: 'PATCH', url: '/api/v1/listeners/devices', payload: { tlsMode: 'none' } });
    assert.equal(tls.statusCode, 200, tls.body);
    const nope = await f.call('admin', { method: 'PATCH', url: '/api/v1/listeners/nope', payload: { port: 1 } });
    assert.equal(nope.statusCode, 404);
    assert.equal(nope.json<{ detail: string }>().detail, 'no listener named "nope"');
    assert.equal((await f.call('admin', { method: 'DELETE', url: '/api/v1/listeners/devices' })).statusCode, 200);
    for (const l of existing.slice(1)) assert.equal((await f.call('admin', { method: 'DELETE', url: `/api/v1/listeners/${encodeURIComponent(l.name)}` })).statusCode, 200);
    const last = await f.call('admin', { method: 'DELETE', url: `/api/v1/listeners/${encodeURIComponent(first.name)}` });
    assert.equal(last.statusCode, 422);
    assert.match(last.json<{ detail: string }>().detail, /^refused: .*Pass --force/);
  } finally {
    await f.close();
  }
});
