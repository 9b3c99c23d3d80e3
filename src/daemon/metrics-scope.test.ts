import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricsScopeFor } from './admin-listener.ts';

test('/metrics is public on a loopback admin listener, else it needs a read token unless metrics.public', () => {
  const at = (bind: string, pub = false): string => metricsScopeFor({ admin: { enabled: true, bind }, metrics: { public: pub } });
  assert.equal(at('127.0.0.1:8025'), 'public');
  assert.equal(at('[::1]:8025'), 'public');
  assert.equal(at('0.0.0.0:8025'), 'read');
  assert.equal(at('192.0.2.10:8025'), 'read');
  assert.equal(at('192.0.2.10:8025', true), 'public');
});
