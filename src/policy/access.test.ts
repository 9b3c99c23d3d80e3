/**
 * @module policy/access.test
 * Unit tests for policy/access: connect stage: remoteIPRanges (IPv4, IPv6, ::1, IPv4-mapped), IP block list, unknown listener.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { evaluate } from './evaluate.ts';

const snap = snapshotOf({
  receiveConnectors: [
    { name: 'mx', port: 25 },
    { name: 'relay', port: 2525, role: 'relay', remoteIPRanges: ['10.0.0.0/8', '2001:db8::/32', '::1'] },
  ],
  lists: { block: { ips: ['192.0.2.66', '2001:db8:bad::/48'] }, allow: { ips: ['192.0.2.0/24', '2001:db8::/32'] } },
});
const connect = (p: Parameters<typeof factsOf>[0]) => {
  const v = evaluate('connect', factsOf(p), snap);
  return v.action === 'continue' ? 'continue' : v.reply;
};

test('scoped listener: inside ranges (IPv4, IPv6, ::1, mapped) continue, outside refused', () => {
  assert.equal(connect({ listener: 'relay', clientIp: '10.1.2.3' }), 'continue');
  assert.equal(connect({ listener: 'relay', clientIp: '::ffff:10.1.2.3' }), 'continue');
  assert.equal(connect({ listener: 'relay', clientIp: '2001:db8:5::1' }), 'continue');
  assert.equal(connect({ listener: 'relay', clientIp: '::1' }), 'continue');
  assert.equal(connect({ listener: 'relay', clientIp: '203.0.113.1' }), 'client-not-permitted');
  assert.equal(connect({ listener: 'relay', clientIp: '::2' }), 'client-not-permitted');
});

test('unscoped listener admits anyone not blocked', () => {
  assert.equal(connect({ clientIp: '203.0.113.1' }), 'continue');
});

test('block list, IPv4 and IPv6 and mapped; block beats allow', () => {
  assert.equal(connect({ clientIp: '192.0.2.66' }), 'client-blocked');
  assert.equal(connect({ clientIp: '::ffff:192.0.2.66' }), 'client-blocked');
  assert.equal(connect({ clientIp: '2001:db8:bad::9' }), 'client-blocked');
  assert.equal(connect({ clientIp: '192.0.2.67' }), 'continue');
});

test('client-not-permitted carries the IP for the reply text', () => {
  const v = evaluate('connect', factsOf({ listener: 'relay', clientIp: '203.0.113.1' }), snap);
  assert.equal(v.action, 'reject');
  assert.deepEqual(v.action === 'reject' ? v.vars : undefined, { ip: '203.0.113.1' });
  assert.deepEqual(v.reasons, ['anonymous-external', 'access:remote-ip-ranges']);
});

test('unknown listener fails closed', () => {
  assert.equal(connect({ listener: 'gone', clientIp: '10.1.2.3' }), 'client-not-permitted');
  const v = evaluate('mail', factsOf({ listener: 'gone', mailFrom: 'a@b.org' }), snap);
  assert.equal(v.action === 'reject' ? v.reply : v.action, 'client-not-permitted');
});
