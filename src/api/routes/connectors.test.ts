import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';

test('connectors: add, show, edit lists, remove as the token; refusals carry the CLI messages', async () => {
  const f = await apiFixture();
  try {
    const add = { name: 'Scanners', connectorType: 'OnPremises', senderIPAddresses: ['192.0.2.0/28'], comment: 'MFPs' };
    assert.equal((await f.call('read', { method: 'POST', url: '/api/v1/connectors', payload: add })).statusCode, 403);
    const r = await f.call('admin', { method: 'POST', url: '/api/v1/connectors', payload: add });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((await f.ctx.store.current())!.actor, 'admin');
    assert.equal((await f.ctx.store.current())!.comment, 'connector add Scanners');
    const dup = await f.call('admin', { method: 'POST', url: '/api/v1/connectors', payload: { ...add, name: 'scanners' } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json<{ detail: string }>().detail, 'inbound connector "scanners" already exists');
    const set = await f.call('admin', { method: 'PATCH', url: '/api/v1/connectors/scanners', payload: { addSenderIPAddresses: ['2001:db8::/64'], requireTls: true } });
    assert.equal(set.statusCode, 200, set.body);
    const shown = (await f.call('read', { method: 'GET', url: '/api/v1/connectors/Scanners' })).json<{ senderIPAddresses: string[]; requireTls: boolean }>();
    assert.deepEqual(shown.senderIPAddresses, ['192.0.2.0/28', '2001:db8::/64']);
    assert.equal(shown.requireTls, true);
    const absent = await f.call('admin', { method: 'PATCH', url: '/api/v1/connectors/Scanners', payload: { removeSenderIPAddresses: ['198.51.100.1'] } });
    assert.equal(absent.statusCode, 422);
    assert.equal(absent.json<{ detail: string }>().detail, 'senderIPAddresses does not contain "198.51.100.1"');
    const badIp = await f.call('admin', { method: 'PATCH', url: '/api/v1/connectors/Scanners', payload: { senderIPAddresses: ['not-an-ip'] } });
    assert.equal(badIp.statusCode, 422);
    assert.match(badIp.json<{ detail: string }>().detail, /inboundConnectors\[\d+\]\.senderIPAddresses\[0\]/);
    assert.equal((await f.call('admin', { method: 'PATCH', url: '/api/v1/connectors/Scanners', payload: { unknownField: 1 } })).statusCode, 400);
    const list = (await f.call('read', { method: 'GET', url: '/api/v1/connectors' })).json<{ name: string }[]>();
    assert.ok(list.some((c) => c.name === 'Scanners'));
    assert.equal((await f.call('admin', { method: 'DELETE', url: '/api/v1/connectors/Scanners' })).statusCode, 200);
    const gone = await f.call('read', { method: 'GET', url: '/api/v1/connectors/Scanners' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json<{ detail: string }>().detail, 'no inbound connector named "Scanners"');
  } finally {
    await f.close();
  }
});
