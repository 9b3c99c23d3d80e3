import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../config/index.ts';
import type { NodeStatus } from '../../config/nodes.ts';
import { fleetNodes, NODE_SILENT_MS, CONFIG_LAG_MS } from './fleet.ts';

const NOW = 1_000_000_000;
function node(name: string, lastSeenAgo: number, configVersion: number): NodeStatus {
  return { name, softwareVersion: '0.1.0', configVersion, queueDepth: 0, startedAt: NOW - 3_600_000, lastSeen: NOW - lastSeenAgo };
}

test('fleet alerts: a silent node, a lagging node; a node that just missed a fresh version is not flagged', () => {
  const ctx = (savedAgo: number) => ({
    db: undefined as never, // the fleet rule reads only `fleet`
    config: defaultConfig(),
    now: NOW,
    since: NOW - 60_000,
    fleet: { now: NOW, configVersion: 7, configSavedAt: NOW - savedAgo, nodes: [node('a', 1_000, 7), node('b', NODE_SILENT_MS + 5_000, 7), node('c', 2_000, 6)] },
  });
  const late = fleetNodes(ctx(CONFIG_LAG_MS + 1_000));
  assert.deepEqual(late.map((c) => [c.kind, c.key]), [['node-silent', 'b'], ['node-config-lag', 'c:7']]);
  assert.match(late[1]?.summary ?? '', /node c runs configuration version 6; version 7 was saved/);
  const fresh = fleetNodes(ctx(1_000));
  assert.deepEqual(fresh.map((c) => c.kind), ['node-silent'], 'a version saved a second ago is not a lag yet');
  assert.deepEqual(fleetNodes({ ...ctx(0), fleet: undefined }), [], 'no fleet (one SQLite node): no fleet alerts');
});
