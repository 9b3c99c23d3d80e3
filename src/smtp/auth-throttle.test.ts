import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle } from './auth-throttle.ts';

const S = { ipFailures: 3, userFailures: 5, windowSeconds: 60, lockoutSeconds: 100 };

test('an IP is locked at its ceiling within the window, and only then', () => {
  const t = new AuthThrottle(() => S);
  assert.equal(t.failure('192.0.2.1', 'a', 0), undefined);
  // The first failure left the window: the count starts again.
  assert.equal(t.failure('192.0.2.1', 'a', 61_000), undefined);
  assert.equal(t.failure('192.0.2.1', 'a', 62_000), undefined);
  assert.deepEqual(t.failure('192.0.2.1', 'a', 63_000), { scope: 'ip', until: 163_000 });
  assert.deepEqual(t.check('192.0.2.1', 'other', 100_000), { scope: 'ip', until: 163_000 });
  assert.equal(t.check('192.0.2.2', 'a', 100_000), undefined);
  assert.equal(t.check('192.0.2.1', 'a', 163_000), undefined);
});

test('a repeat lockout of the same IP within a day lasts twice as long each time, at most 16 times', () => {
  const t = new AuthThrottle(() => S);
  let now = 0;
  const lengths: number[] = [];
  for (let round = 0; round < 7; round++) {
    let l;
    for (let i = 0; i < 3; i++) l = t.failure('192.0.2.9', 'a', now);
    assert.ok(l);
    lengths.push(l.until - now);
    now = l.until + 1;
  }
  assert.deepEqual(lengths, [100_000, 200_000, 400_000, 800_000, 1_600_000, 1_600_000, 1_600_000]);
});

test('a user name is locked for new IPs only; a success forgets the IP and makes it known', () => {
  const t = new AuthThrottle(() => ({ ...S, ipFailures: 0 }));
  t.success('198.51.100.7', 'Alice');
  for (let i = 0; i < 5; i++) t.failure(`203.0.113.${i}`, 'alice', 1000);
  assert.deepEqual(t.check('203.0.113.50', 'ALICE', 2000), { scope: 'user', until: 101_000 });
  assert.equal(t.check('198.51.100.7', 'alice', 2000), undefined);
});

test('0 turns a ceiling off', () => {
  const t = new AuthThrottle(() => ({ ...S, ipFailures: 0, userFailures: 0 }));
  for (let i = 0; i < 50; i++) assert.equal(t.failure('192.0.2.1', 'a', i), undefined);
  assert.equal(t.check('192.0.2.1', 'a', 60), undefined);
});
