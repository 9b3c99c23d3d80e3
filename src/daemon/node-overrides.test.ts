import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadExampleConfig } from '../config/index.ts';
import { applyOverrides, parseListen, unknownOverrides } from './node-overrides.ts';

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
