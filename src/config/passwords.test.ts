/**
 * @module config/passwords.test
 * scrypt hashes: format, verification, malformed hashes refused; and the defaults diff.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changedSettings, defaultConfig, hashPassword, isPasswordHash, verifyPassword } from './index.ts';

test('hashPassword produces scrypt$N$r$p$salt$hash and verifies', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  assert.equal(await verifyPassword('correct horse', h), true);
  assert.equal(await verifyPassword('correct horsf', h), false);
  assert.notEqual(await hashPassword('correct horse'), h, 'salted');
  assert.equal(isPasswordHash(h), true);
});

test('malformed hashes never verify', async () => {
  const good = await hashPassword('pw');
  const parts = good.split('$');
  const bad = [
    '',
    'scrypt$',
    'bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA',
    ['scrypt', '1000', ...parts.slice(2)].join('$'), // N not a power of two
    ['scrypt', String(1 << 24), ...parts.slice(2)].join('$'), // N too large (memory)
    ['scrypt', '16384', '8', '1', 'not base64!', parts[5]].join('$'),
    ['scrypt', '16384', '8', '1', parts[4], 'AAAA'].join('$'), // key too short
    good + '$extra',
  ];
  for (const h of bad) {
    assert.equal(await verifyPassword('pw', h), false, h);
    assert.equal(isPasswordHash(h), false, h);
  }
});

test('changedSettings keeps only what differs; arrays compared whole', () => {
  const defaults = defaultConfig();
  assert.deepEqual(changedSettings(defaults, defaults), {});
  const c = structuredClone(defaults);
  c.organization.rejectDirectSend = true;
  c.lists.block.ips = ['192.0.2.1'];
  c.queue.retryMaxSeconds = 7200;
  assert.deepEqual(changedSettings(c, defaults), {
    organization: { rejectDirectSend: true },
    lists: { block: { ips: ['192.0.2.1'] } },
    queue: { retryMaxSeconds: 7200 },
  });
  const d = structuredClone(c);
  d.lists.block.ips = [];
  assert.deepEqual(changedSettings(d, c), { lists: { block: { ips: [] } } });
});
