/**
 * @module test/auth/spf.test
 * auth/spf's result cache over a real DNS server on loopback: a result is reused exactly while the
 * DNS answers it used are alive (fake clock), a record change is seen once they expire, the local
 * part of MAIL FROM is part of the key (SPF macros), temperrors are never kept, and a cached result
 * is the same as a fresh evaluation.
 * Touches: 127.0.0.1 sockets only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { checkSpf, SpfCache, type SpfInput } from '../../src/auth/index.ts';
import { startDnsServer, type TestDnsServer, type Zones } from '../helpers/dns-server.ts';
import { clockedResolver } from '../helpers/clocked-resolver.ts';

const zones = (spf: string): Zones => ({
  'contoso.example': { TXT: [{ value: spf, ttl: 30 }] },
  '_spf.contoso.example': { TXT: [{ value: 'v=spf1 ip4:198.51.100.0/24 -all', ttl: 120 }] },
  'mail.contoso.example': { A: [{ address: '192.0.2.10', ttl: 600 }], TXT: [{ value: 'v=spf1 a -all', ttl: 600 }] },
  'macro.example': { TXT: ['v=spf1 exists:%{l}.allow.macro.example -all'] },
  'alice.allow.macro.example': { A: ['127.0.0.2'] },
});

let dns: TestDnsServer;
before(async () => {
  dns = await startDnsServer(zones('v=spf1 ip4:192.0.2.0/24 include:_spf.contoso.example -all'), { soaMinimum: 60 });
});
after(() => dns.stop());

const input: SpfInput = { clientIp: '192.0.2.10', helo: 'mail.contoso.example', mailFrom: 'alice@contoso.example', mta: 'mx.test' };

/** A resolver with a fake clock over the test DNS server, and a fresh cache. */
const setup = (timeoutMs = 2000) => clockedResolver(dns.address, new SpfCache(100), timeoutMs);

test('a result is reused while its DNS answers live: one evaluation for 100 transactions, same answer as a fresh one', async () => {
  const { resolver, cache, deps } = setup();
  const first = await checkSpf(input, deps);
  assert.equal(first.mailFrom.status?.result, 'pass');
  assert.equal(first.helo?.status?.result, 'pass');
  const calls = resolver.stats().queries;
  for (let i = 0; i < 99; i++) assert.equal(await checkSpf(input, deps), first);
  assert.equal(resolver.stats().queries, calls, 'no resolver call for a cached result');
  assert.equal(cache.hits, 99);
  const fresh = await checkSpf(input, { resolver: resolver.resolve });
  assert.deepEqual(fresh, first, 'the same outcome as evaluating again');
  assert.match(first.mailFrom.header ?? '', /^Received-SPF: pass .*client-ip=192\.0\.2\.10;/s);
});

test('a record change is seen once the earliest answer used expires (the 30 s TXT), not before', async () => {
  const { resolver, cache, deps, advance } = setup();
  assert.equal((await checkSpf(input, deps)).mailFrom.status?.result, 'pass');
  dns.setZones(zones('v=spf1 -all'));
  try {
    advance(29_000);
    const calls = resolver.stats().queries;
    assert.equal((await checkSpf(input, deps)).mailFrom.status?.result, 'pass', 'record and result still cached');
    assert.equal(cache.hits, 1, 'served by the SPF cache');
    assert.equal(resolver.stats().queries, calls, 'without evaluating again');
    advance(2_000);
    assert.equal((await checkSpf(input, deps)).mailFrom.status?.result, 'fail', 'both expired: evaluated again');
  } finally {
    dns.setZones(zones('v=spf1 ip4:192.0.2.0/24 include:_spf.contoso.example -all'));
  }
});

test('the whole MAIL FROM is the key: a macro on the local part gives each sender its own result', async () => {
  const { deps } = setup();
  const at = (local: string) => checkSpf({ ...input, helo: 'mail.contoso.example', mailFrom: `${local}@macro.example` }, deps);
  assert.equal((await at('alice')).mailFrom.status?.result, 'pass');
  assert.equal((await at('mallory')).mailFrom.status?.result, 'fail');
  assert.equal((await at('alice')).mailFrom.status?.result, 'pass');
});

test('a temperror is never kept: the next transaction asks again', async () => {
  const { cache, deps } = setup(300);
  const other = { ...input, mailFrom: 'bob@contoso.example' };
  dns.silent = true;
  try {
    assert.equal((await checkSpf(other, deps)).mailFrom.status?.result, 'temperror');
  } finally {
    dns.silent = false;
  }
  assert.equal(cache.size, 0);
  assert.equal((await checkSpf(other, deps)).mailFrom.status?.result, 'pass');
  assert.equal(cache.size, 1);
});

test('a temperror is never kept, even when every answer behind it could be', async () => {
  const cache = new SpfCache(10);
  let calls = 0;
  const failing = async (): Promise<unknown> => {
    calls++;
    throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
  };
  const now = 1_000;
  const deps = { resolver: failing, tracked: () => ({ resolve: failing, expiresAt: () => now + 60_000 }), cache, now: () => now };
  assert.equal((await checkSpf(input, deps)).mailFrom.status?.result, 'temperror');
  const first = calls;
  assert.ok(first > 0);
  assert.equal((await checkSpf(input, deps)).mailFrom.status?.result, 'temperror');
  assert.ok(calls > first, 'evaluated again');
  assert.equal(cache.size, 0);
});

test('the null reverse-path is the HELO check (postmaster@HELO), no second evaluation', async () => {
  const { deps } = setup();
  const o = await checkSpf({ ...input, mailFrom: '' }, deps);
  assert.equal(o.mailFrom.status?.result, 'pass');
  assert.equal(o.mailFrom.domain, 'mail.contoso.example');
  assert.equal(o.helo, undefined);
});
