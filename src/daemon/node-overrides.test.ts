import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverrides, ConfigErrors, configuredOverrides, loadExampleConfig, validateConfig } from '../config/index.ts';
import { parseListen, unknownOverrides } from './node-overrides.ts';

test('--listen NAME=HOST:PORT: parsed (IPv6 in brackets); anything else refused with the form to use', () => {
  assert.deepEqual(parseListen('mx=127.0.0.1:6525'), { name: 'mx', host: '127.0.0.1', port: 6525 });
  assert.deepEqual(parseListen('admin=[::1]:8026'), { name: 'admin', host: '::1', port: 8026 });
  for (const bad of ['mx', 'mx=127.0.0.1', 'mx=127.0.0.1:99999', '=1.2.3.4:25', 'mx=::1:25', 'mx=a b:25']) {
    assert.throws(() => parseListen(bad), /use NAME=HOST:PORT/, bad);
  }
});

test('overrides move this node\'s listeners and admin bind on a copy; unknown names are reported', () => {
  const cfg = loadExampleConfig();
  const out = applyOverrides(cfg, [parseListen('MX=127.0.0.2:6525'), parseListen('admin=[::1]:8026')]);
  assert.deepEqual(out.receiveConnectors.map((l) => [l.name, l.bind, l.port]), [['mx', '127.0.0.2', 6525], ['submission', '127.0.0.1', 2587]]);
  assert.equal(out.admin.bind, '[::1]:8026');
  assert.equal(cfg.receiveConnectors[0]?.port, 2525, 'the stored configuration is not changed');
  assert.equal(applyOverrides(cfg, []), cfg);
  assert.deepEqual(unknownOverrides(cfg, [parseListen('relay=127.0.0.1:1'), parseListen('admin=127.0.0.1:2')]), ['relay']);
});

test('the configuration\'s entry for a node becomes its overrides; validation names a bad entry by path', () => {
  const cfg = loadExampleConfig();
  cfg.nodes = [{ name: 'edge-1', listen: [{ listener: 'mx', bind: '10.0.0.5', port: 25 }] }];
  assert.deepEqual(configuredOverrides(cfg, 'EDGE-1'), [{ name: 'mx', host: '10.0.0.5', port: 25 }]);
  assert.deepEqual(configuredOverrides(cfg, 'edge-2'), []);
  assert.equal(validateConfig(cfg).nodes.length, 1);
  const bad = structuredClone(cfg);
  bad.nodes = [
    { name: 'edge-1', listen: [{ listener: 'relay', bind: '10.0.0.5', port: 25 }] },
    { name: 'EDGE-1', listen: [{ listener: 'mx', bind: '10.0.0.6', port: 25 }, { listener: 'mx', bind: '10.0.0.7', port: 25 }] },
  ];
  assert.throws(
    () => validateConfig(bad),
    (e: unknown) => {
      assert.ok(e instanceof ConfigErrors);
      assert.deepEqual(
        e.errors.map((x) => `${x.path}: ${x.reason}`),
        [
          'nodes[0].listen[0].listener: no receive connector named "relay" (or use admin)',
          'nodes[1].name: node "EDGE-1" is listed twice',
          'nodes[1].listen[1].listener: "mx" is moved twice for node "EDGE-1"',
        ],
      );
      return true;
    },
  );
});

test("a node's entry is checked as the node binds it: a route back to its moved listener, or an overlap, is refused", () => {
  const cfg = loadExampleConfig();
  cfg.routes = [{ ...structuredClone(cfg.routes[0] ?? assert.fail('the example has a route')), name: 'to-exchange', type: 'smtp', host: '10.0.0.5', port: 25, domains: ['*'] }];
  cfg.nodes = [{ name: 'edge-1', listen: [{ listener: 'mx', bind: '10.0.0.5', port: 25 }] }];
  assert.throws(
    () => validateConfig(cfg),
    (e: unknown) => e instanceof ConfigErrors && e.errors.some((x) => x.path === 'nodes[0].listen' && /on node "edge-1": routes\[0\]\.host: 10\.0\.0\.5:25 is this gateway's own receive connector "mx"/.test(x.reason)),
  );
  cfg.nodes = [{ name: 'edge-1', listen: [{ listener: 'mx', bind: '127.0.0.1', port: 2587 }] }];
  assert.throws(
    () => validateConfig(cfg),
    (e: unknown) => e instanceof ConfigErrors && e.errors.some((x) => x.path === 'nodes[0].listen' && /on node "edge-1": .*use the same address and port/.test(x.reason)),
  );
  cfg.nodes = [{ name: 'edge-1', listen: [{ listener: 'mx', bind: '10.0.0.6', port: 25 }] }];
  assert.equal(validateConfig(cfg).nodes.length, 1, 'elsewhere is fine');
});

test('a stored version loads as saved: per-node checks apply to a change being made, not to a version read back', () => {
  const cfg = loadExampleConfig();
  cfg.routes = [{ ...structuredClone(cfg.routes[0] ?? assert.fail('the example has a route')), name: 'to-exchange', type: 'smtp', host: '10.0.0.5', port: 25, domains: ['*'] }];
  cfg.nodes = [{ name: 'edge-1', listen: [{ listener: 'mx', bind: '10.0.0.5', port: 25 }] }];
  assert.throws(() => validateConfig(cfg), ConfigErrors);
  assert.equal(validateConfig(cfg, undefined, { stored: true }).nodes.length, 1);
});
