import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { compileCidrs, normalizeIp, parseCidr } from './cidr.ts';

/** A deterministic pseudo-random generator (so a failure reproduces). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const r = rng(7208);
const v4 = (): string => [0, 0, 0, 0].map(() => Math.floor(r() * 256)).join('.');
const v6 = (): string => Array.from({ length: 8 }, () => Math.floor(r() * 65536).toString(16)).join(':');
/** A near neighbour of a network address, so matches and misses are both frequent. */
const near4 = (base: string): string => base.split('.').map((o, i) => (i < 3 && r() < 0.8 ? o : String(Math.floor(r() * 256)))).join('.');

test('matches exactly what node:net BlockList says, IPv4 and IPv6, every prefix length', () => {
  for (let round = 0; round < 300; round++) {
    const nets = Array.from({ length: 4 }, (_, i) => (i % 2 ? `${v6()}/${Math.floor(r() * 129)}` : `${v4()}/${Math.floor(r() * 33)}`));
    const m = compileCidrs(nets);
    // One oracle per family: BlockList lets an IPv6 subnet cover IPv4 addresses (mapped form);
    // a connector's IPv6 range is not meant to admit IPv4 clients.
    const oracle = { ipv4: new BlockList(), ipv6: new BlockList() };
    for (const n of nets) {
      const p = parseCidr(n);
      const fam = p.family === 4 ? 'ipv4' : 'ipv6';
      oracle[fam].addSubnet(p.address, p.prefix, fam);
    }
    const probes = [v4(), v6(), near4((nets[0] ?? '').split('/')[0] ?? '0.0.0.0'), (nets[1] ?? '').split('/')[0] ?? '::'];
    for (const ip of probes) {
      const fam = ip.includes(':') ? 'ipv6' : 'ipv4';
      assert.equal(m.contains(ip), oracle[fam].check(normalizeIp(ip), fam), `${ip} in ${nets.join(' ')}`);
    }
  }
});

test('longest prefix wins; mapped IPv4, compressed IPv6, bad input', () => {
  const m = compileCidrs(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '2001:db8::/32', '2001:db8:1::/48', '::1']);
  assert.deepEqual(m.match('10.1.2.3'), { entry: '10.1.2.3', prefix: 32 });
  assert.deepEqual(m.match('10.1.9.9'), { entry: '10.1.0.0/16', prefix: 16 });
  assert.deepEqual(m.match('::ffff:10.200.0.1'), { entry: '10.0.0.0/8', prefix: 8 });
  assert.deepEqual(m.match('2001:db8:1:2::5'), { entry: '2001:db8:1::/48', prefix: 48 });
  assert.deepEqual(m.match('2001:DB8:ffff::1'), { entry: '2001:db8::/32', prefix: 32 });
  assert.deepEqual(m.match('::1'), { entry: '::1', prefix: 128 });
  assert.equal(m.match('11.0.0.1'), undefined);
  assert.equal(m.match('not an ip'), undefined);
  assert.equal(compileCidrs(['0.0.0.0/0']).contains('203.0.113.9'), true);
  assert.equal(compileCidrs(['::/0']).contains('203.0.113.9'), false);
  assert.throws(() => compileCidrs(['10.0.0.0/33']), /too long/);
  assert.throws(() => compileCidrs(['300.1.1.1']), /invalid IP/);
});
