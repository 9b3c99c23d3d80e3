/**
 * @module test/auth/resolver.test
 * auth/resolver against a real DNS server on loopback (test/helpers/dns-server): UDP and TCP,
 * positive and negative caching with TTLs, in-flight de-duplication, the size bound, timeouts and
 * a server that is down.
 * Touches: 127.0.0.1 sockets only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../../src/auth/resolver.ts';
import { closedPort, startDnsServer } from '../helpers/dns-server.ts';
import type { TestDnsServer } from '../helpers/dns-server.ts';

const bigTxt = `v=DKIM1; k=rsa; p=${'B'.repeat(1400)}`;
let dns: TestDnsServer;

before(async () => {
  dns = await startDnsServer(
    {
      'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'], MX: [{ exchange: 'mx.example.com', priority: 10, ttl: 60 }], A: [{ address: '192.0.2.1', ttl: 30 }], AAAA: ['2001:db8::1'] },
      'big.example.com': { TXT: [bigTxt] },
      'www.example.com': { CNAME: { value: 'example.com', ttl: 20 } },
      'sel._domainkey.example.com': { TXT: ['v=DKIM1; p=abc'] },
    },
    { soaMinimum: 60 },
  );
});
after(() => dns.stop());

const mk = (extra: Parameters<typeof createResolver>[0] = {}) => createResolver({ servers: [dns.address], timeoutMs: 300, tries: 1, ...extra });

test('answers in the shapes mailauth expects', async () => {
  const r = mk();
  assert.deepEqual(await r.resolve('example.com', 'TXT'), [['v=spf1 ip4:192.0.2.0/24 -all']]);
  assert.deepEqual(await r.resolve('example.com', 'MX'), [{ exchange: 'mx.example.com', priority: 10 }]);
  assert.deepEqual(await r.resolve('example.com', 'A'), ['192.0.2.1']);
  assert.deepEqual(await r.resolve('example.com', 'AAAA'), ['2001:db8::1']);
  assert.deepEqual(await r.resolve('www.example.com', 'A'), ['192.0.2.1']);
  await assert.rejects(r.resolve('nope.example.com', 'A'), { code: 'ENOTFOUND' });
  await assert.rejects(r.resolve('example.com', 'PTR'), { code: 'ENODATA' });
  await assert.rejects(r.resolve('_domainkey.example.com', 'TXT'), { code: 'ENODATA' }, 'empty non-terminal is NODATA');
});

test('a TXT too big for UDP is fetched over TCP, its strings intact', async () => {
  dns.resetLog();
  const r = mk();
  const txt = (await r.resolve('big.example.com', 'TXT')) as string[][];
  assert.equal(txt.length, 1);
  assert.ok((txt[0] ?? []).length >= 6, 'split into 255-byte character-strings');
  assert.equal((txt[0] ?? []).join(''), bigTxt);
  assert.deepEqual(
    dns.queries.filter((q) => q.name === 'big.example.com').map((q) => q.proto),
    ['udp', 'tcp'],
  );
});

test('positive answers are cached for their TTL (fake clock)', async () => {
  let now = 1_000_000;
  const r = mk({ clock: () => now });
  dns.resetLog();
  await r.resolve('example.com', 'A'); // ttl 30
  await r.resolve('EXAMPLE.com.', 'A');
  assert.equal(dns.count('example.com', 'A'), 1);
  now += 29_000;
  await r.resolve('example.com', 'A');
  assert.equal(dns.count('example.com', 'A'), 1);
  now += 2_000;
  await r.resolve('example.com', 'A');
  assert.equal(dns.count('example.com', 'A'), 2, 'expired after 30 s');
  // a CNAME chain is cached for its smallest TTL (20 s)
  await r.resolve('www.example.com', 'A');
  now += 21_000;
  await r.resolve('www.example.com', 'A');
  assert.equal(dns.count('www.example.com', 'A'), 2);
  const s = r.stats();
  assert.equal(s.hits, 2);
  assert.equal(s.upstream, 4);
});

test('NXDOMAIN and NODATA are cached for the SOA minimum, capped by negativeTtlSeconds', async () => {
  let now = 0;
  const r = mk({ clock: () => now, negativeTtlSeconds: 300 });
  dns.resetLog();
  for (let i = 0; i < 3; i++) {
    await assert.rejects(r.resolve('missing.example.com', 'TXT'), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve('example.com', 'PTR'), { code: 'ENODATA' });
  }
  assert.equal(dns.count('missing.example.com', 'TXT'), 1);
  assert.equal(dns.count('example.com', 'PTR'), 1);
  assert.equal(r.stats().negativeHits, 4);
  now += 61_000; // SOA minimum 60
  await assert.rejects(r.resolve('missing.example.com', 'TXT'), { code: 'ENOTFOUND' });
  assert.equal(dns.count('missing.example.com', 'TXT'), 2);
  const capped = mk({ clock: () => now, negativeTtlSeconds: 5 });
  await assert.rejects(capped.resolve('missing2.example.com', 'TXT'), { code: 'ENOTFOUND' });
  now += 6_000;
  await assert.rejects(capped.resolve('missing2.example.com', 'TXT'), { code: 'ENOTFOUND' });
  assert.equal(dns.count('missing2.example.com', 'TXT'), 2, 'cap applied');
});

test('tracked(): the earliest expiry of what it delivered, hits and upstream alike; 0 after an uncacheable answer', async () => {
  let now = 5_000_000;
  const r = mk({ clock: () => now, negativeTtlSeconds: 300 });
  const t = r.tracked();
  assert.equal(t.expiresAt(), Number.POSITIVE_INFINITY, 'nothing asked yet');
  await r.resolve('example.com', 'MX'); // ttl 60, cached through the plain view
  now += 10_000;
  await t.resolve('example.com', 'MX'); // a hit: expires 50 s from now
  assert.equal(t.expiresAt(), 5_060_000);
  await t.resolve('example.com', 'A'); // upstream, ttl 30
  assert.equal(t.expiresAt(), now + 30_000);
  await assert.rejects(t.resolve('gone.example.com', 'A'), { code: 'ENOTFOUND' }); // negative: SOA minimum 60
  assert.equal(t.expiresAt(), now + 30_000, 'a later negative expiry does not raise it');
  const other = r.tracked();
  await other.resolve('example.com', 'MX');
  assert.equal(other.expiresAt(), 5_060_000, 'each view tracks only its own answers');
  dns.silent = true;
  try {
    await assert.rejects(t.resolve('example.com', 'NS'), { code: 'ETIMEOUT' });
  } finally {
    dns.silent = false;
  }
  assert.equal(t.expiresAt(), 0, 'an answer that was not cached makes the computation uncacheable');
});

test('50 concurrent identical questions make one upstream query', async () => {
  const r = mk();
  dns.resetLog();
  const all = await Promise.all(Array.from({ length: 50 }, () => r.resolve('example.com', 'TXT')));
  assert.equal(dns.count('example.com', 'TXT'), 1);
  assert.equal(r.stats().inflightJoins, 49);
  (all[0] as string[][]).push(['mutated']);
  assert.deepEqual(all[1], [['v=spf1 ip4:192.0.2.0/24 -all']], 'each caller gets its own copy');
  assert.deepEqual(await r.resolve('example.com', 'TXT'), [['v=spf1 ip4:192.0.2.0/24 -all']]);
  const errs = await Promise.allSettled(Array.from({ length: 5 }, () => r.resolve('nx.example.com', 'A')));
  const reasons = errs.map((e) => (e as PromiseRejectedResult).reason as Error);
  assert.notEqual(reasons[0], reasons[1], 'each caller gets its own Error');
});

test('the cache is bounded (LRU eviction)', async () => {
  const r = mk({ maxEntries: 3 });
  dns.resetLog();
  await r.resolve('example.com', 'A');
  await r.resolve('example.com', 'AAAA');
  await r.resolve('example.com', 'MX');
  await r.resolve('example.com', 'A'); // refresh A: AAAA is now least recent
  await r.resolve('example.com', 'TXT'); // evicts AAAA
  assert.equal(r.stats().size, 3);
  assert.equal(r.stats().evictions, 1);
  await r.resolve('example.com', 'A');
  assert.equal(dns.count('example.com', 'A'), 1);
  await r.resolve('example.com', 'AAAA');
  assert.equal(dns.count('example.com', 'AAAA'), 2);
  r.clear();
  assert.equal(r.stats().size, 0);
});

test('a server that does not answer gives ETIMEOUT within the bound, not cached', async () => {
  const r = mk({ timeoutMs: 200, tries: 2 });
  dns.silent = true;
  try {
    const t0 = Date.now();
    await assert.rejects(r.resolve('example.com', 'NS'), { code: 'ETIMEOUT' });
    const took = Date.now() - t0;
    assert.ok(took >= 350 && took < 1500, `took ${took} ms`);
  } finally {
    dns.silent = false;
  }
  assert.equal(r.stats().timeouts, 1);
  await assert.rejects(r.resolve('example.com', 'NS'), { code: 'ENODATA' }, 'the timeout was not cached');
});

test('a server that is down yields an error, not a crash or a hang', async () => {
  const port = await closedPort();
  const r = createResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 300, tries: 1 });
  const t0 = Date.now();
  await assert.rejects(r.resolve('example.com', 'TXT'), (err: { code?: string }) => ['ECONNREFUSED', 'ETIMEOUT'].includes(err.code ?? ''));
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(r.stats().errors + r.stats().timeouts, 1);
  assert.equal(r.stats().size, 0);
});

test('falls over to the next server', async () => {
  const port = await closedPort();
  const r = createResolver({ servers: [`127.0.0.1:${port}`, dns.address], timeoutMs: 300, tries: 1 });
  assert.deepEqual(await r.resolve('example.com', 'A'), ['192.0.2.1']);
});
