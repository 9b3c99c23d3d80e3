/**
 * @module test/daemon/node-entries.test
 * The configuration's per-node entries (`nodes`): the node they name binds the listed listeners
 * (and admin) at their addresses, other nodes keep the receive connector's, `--listen` wins, and
 * an entry saved while the node runs takes effect on it without a restart. The stored
 * configuration is never changed by a node.
 * Touches: temp data directories (real SQLite stores).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/log.ts';
import { parseListen } from '../../src/daemon/node-overrides.ts';
import { openRuntime, type Runtime } from '../../src/daemon/runtime.ts';

const binds = (rt: Runtime): string[] => [
  ...rt.snapshot().config.receiveConnectors.map((l) => `${l.name} ${l.bind}:${l.port}`),
  `admin ${rt.snapshot().config.admin.bind}`,
];

test('per-node entries move that node\'s listeners only; --listen wins; a saved entry applies live', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-node-entries-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = createLogger('test', 'silent');
  const first = await openRuntime(dir, log, { node: 'edge-1' });
  try {
    assert.deepEqual(binds(first), ['mx 127.0.0.1:2525', 'submission 127.0.0.1:2587', 'admin 127.0.0.1:8025']);
    await first.store.update('test', 'edge-1 on its own ports', (c) => {
      c.nodes = [{ name: 'Edge-1', listen: [{ listener: 'MX', bind: '127.0.0.2', port: 6525 }, { listener: 'admin', bind: '::1', port: 6025 }] }];
    });
    const deadline = Date.now() + 5_000;
    while (first.snapshot().config.receiveConnectors[0]?.port !== 6525 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(binds(first), ['mx 127.0.0.2:6525', 'submission 127.0.0.1:2587', 'admin [::1]:6025'], 'the running node applies its new entry');
    const stored = await first.store.current();
    assert.equal(stored?.config.receiveConnectors[0]?.port, 2525, 'the stored receive connector is unchanged');
  } finally {
    await first.close();
  }
  const other = await openRuntime(dir, log, { node: 'edge-2', seed: false });
  try {
    assert.deepEqual(binds(other), ['mx 127.0.0.1:2525', 'submission 127.0.0.1:2587', 'admin 127.0.0.1:8025'], 'another node keeps the connector\'s address');
  } finally {
    await other.close();
  }
  const flag = await openRuntime(dir, log, { node: 'edge-1', seed: false, listen: [parseListen('mx=127.0.0.3:7525')] });
  try {
    assert.deepEqual(binds(flag), ['mx 127.0.0.3:7525', 'submission 127.0.0.1:2587', 'admin [::1]:6025'], '--listen wins over the entry; the rest of the entry stays');
  } finally {
    await flag.close();
  }
});
