import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';

test('nodes: 401 without a token; read lists the nodes that reported, with their lag and state', async () => {
  const f = await apiFixture();
  try {
    assert.equal((await f.call(undefined, { method: 'GET', url: '/api/v1/nodes' })).statusCode, 401);
    assert.deepEqual((await f.call('read', { method: 'GET', url: '/api/v1/nodes' })).json(), []);
    const now = Date.now();
    const nodes = f.ctx.backing.nodes;
    await nodes.heartbeat({ name: 'mx-a', softwareVersion: '0.1.0', configVersion: 1, queueDepth: 3, startedAt: now - 60_000 });
    await f.ctx.store.update('admin', 'a new version', (d) => void (d.organization.rejectDirectSend = true));
    await nodes.heartbeat({ name: 'mx-b\u001b[31m', softwareVersion: '0.1.0', configVersion: 2, queueDepth: 0, startedAt: now });
    const r = await f.call('read', { method: 'GET', url: '/api/v1/nodes' });
    assert.equal(r.statusCode, 200, r.body);
    const rows = r.json<Array<{ name: string; state: string; configVersion: number; configLag: number; queueDepth: number }>>();
    assert.deepEqual(
      rows.map((n) => [n.name, n.state, n.configVersion, n.configLag, n.queueDepth]),
      [
        ['mx-a', 'up', 1, 1, 3],
        ['mx-b\u001b[31m', 'up', 2, 0, 0],
      ],
    );
  } finally {
    await f.close();
  }
});
