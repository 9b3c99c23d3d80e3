/** Address arithmetic of the renderers: canonical networks, netmasks, range difference and complement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { complementRanges, netmask4, netRange, rangeText, subtractRanges, toNet, uniqueNets } from './addresses.ts';

test('toNet clears host bits and writes IPv6 per RFC 5952', () => {
  assert.equal(toNet('172.16.5.7/12').text, '172.16.0.0/12');
  assert.equal(toNet('192.0.2.10').text, '192.0.2.10');
  assert.equal(toNet('2001:DB8:0:0:1:0:0:1').text, '2001:db8::1:0:0:1');
  assert.equal(toNet('2001:db8:1::ffff/48').text, '2001:db8:1::/48');
  assert.equal(toNet('::ffff:192.0.2.1').text, '192.0.2.1');
  assert.equal(toNet('::/0').text, '::/0');
  assert.throws(() => toNet('192.0.2.300'), /invalid IP or CIDR/);
});

test('netmask4 and uniqueNets (sorted, IPv4 first, covered networks dropped)', () => {
  assert.deepEqual([0, 8, 12, 31, 32].map(netmask4), ['0.0.0.0', '255.0.0.0', '255.240.0.0', '255.255.255.254', '255.255.255.255']);
  const u = uniqueNets(['2001:db8::/32', '10.1.0.0/16', '10.0.0.0/8', '192.0.2.1', '192.0.2.1/32', '2001:db8:5::1'].map(toNet));
  assert.deepEqual(u.map((n) => n.text), ['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);
});

test('subtract and complement give exact ranges, written as CIDR when they are one', () => {
  const r = (s: string) => netRange(toNet(s));
  assert.deepEqual(subtractRanges([r('192.0.2.0/24')], [r('192.0.2.10')]).map(rangeText), ['192.0.2.0-192.0.2.9', '192.0.2.11-192.0.2.255']);
  assert.deepEqual(subtractRanges([r('192.0.2.0/24')], [r('192.0.2.0/25')]).map(rangeText), ['192.0.2.128/25']);
  assert.deepEqual(complementRanges([r('10.0.0.0/8')], 4).map(rangeText), ['0.0.0.0-9.255.255.255', '11.0.0.0-255.255.255.255']);
  assert.deepEqual(complementRanges([r('0.0.0.0/0')], 4), []);
  assert.deepEqual(complementRanges([r('::/1')], 6).map(rangeText), ['8000::/1']);
  assert.deepEqual(subtractRanges([r('2001:db8:1::/48')], [r('2001:db8:1::10')]).map(rangeText), ['2001:db8:1::/124', '2001:db8:1::11-2001:db8:1:ffff:ffff:ffff:ffff:ffff']);
});
