import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientLimiter } from './client-limits.ts';

test('concurrency: the connection past the limit is refused until one closes', () => {
  const l = new ClientLimiter();
  const s = { maxConnectionsPerClient: 2, maxConnectionRatePerClient: 0 };
  assert.equal(l.admit('192.0.2.1', s, 0), undefined);
  assert.equal(l.admit('192.0.2.1', s, 0), undefined);
  assert.equal(l.admit('192.0.2.1', s, 0), 'count');
  assert.equal(l.admit('192.0.2.2', s, 0), undefined);
  l.release('192.0.2.1');
  assert.equal(l.openFrom('192.0.2.1'), 1);
  assert.equal(l.admit('192.0.2.1', s, 0), undefined);
});

test('rate: attempts past the limit in a minute are refused; a new minute starts over', () => {
  const l = new ClientLimiter();
  const s = { maxConnectionsPerClient: 0, maxConnectionRatePerClient: 3 };
  for (let i = 0; i < 3; i++) {
    assert.equal(l.admit('192.0.2.1', s, i * 1000), undefined);
    l.release('192.0.2.1');
  }
  assert.equal(l.admit('192.0.2.1', s, 59_000), 'rate');
  assert.equal(l.admit('192.0.2.1', s, 60_000), undefined);
});
