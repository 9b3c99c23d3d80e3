/**
 * @module test/auth/dmarc.test
 * auth/dmarc's result cache over a real DNS server on loopback: a result is reused exactly while
 * the DNS answers it used live (fake clock; the organizational-domain fallback's negative answer
 * counts), a record change is seen once they expire, everything mailauth reads is in the key (From,
 * SPF and DKIM domains, ARC), a temperror is never kept, a cached result is the same as a fresh
 * one; and authenticate() with the cache gives the same facts and DNS lookup count as without.
 * Touches: 127.0.0.1 sockets only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authenticate, checkDmarc, DmarcCache, SpfCache, type DmarcInput } from '../../src/auth/index.ts';
import { startDnsServer, type TestDnsServer, type Zones } from '../helpers/dns-server.ts';
import { clockedResolver } from '../helpers/clocked-resolver.ts';

const zones = (record: string): Zones => ({
  '_dmarc.contoso.example': { TXT: [{ value: record, ttl: 30 }] },
  'contoso.example': { TXT: [{ value: 'v=spf1 ip4:192.0.2.0/24 -all', ttl: 600 }] },
  '_dmarc.fabrikam.example': { TXT: [{ value: 'v=DMARC1; p=quarantine; sp=none', ttl: 600 }] },
  'mail.fabrikam.example': { A: [{ address: '192.0.2.20', ttl: 600 }] },
});

let dns: TestDnsServer;
before(async () => {
  dns = await startDnsServer(zones('v=DMARC1; p=reject'), { soaMinimum: 45 });
});
after(() => dns.stop());

const input: DmarcInput = { headerFrom: ['alice@contoso.example'], spfDomains: [], dkimDomains: [] };

/** A resolver with a fake clock over the test DNS server, and a fresh cache. */
const setup = (timeoutMs = 2000) => clockedResolver(dns.address, new DmarcCache(100), timeoutMs);

const result = async (i: DmarcInput, deps: ReturnType<typeof setup>['deps']): Promise<string | undefined> => {
  const o = await checkDmarc(i, deps);
  return o.result ? o.result.status.result : 'no-result';
};

test('a result is reused while its DNS answer lives: one evaluation for 100 messages, same outcome as a fresh one', async () => {
  const { resolver, cache, deps } = setup();
  const first = await checkDmarc(input, deps);
  assert.equal(first.result && first.result.status.result, 'fail');
  assert.equal(first.result && first.result.policy, 'reject');
  assert.equal(first.lookups, 1);
  const calls = resolver.stats().queries;
  for (let i = 0; i < 99; i++) assert.equal(await checkDmarc(input, deps), first);
  assert.equal(resolver.stats().queries, calls, 'no resolver call for a cached result');
  assert.equal(cache.hits, 99);
  assert.deepEqual(await checkDmarc(input, { resolver: resolver.resolve }), first, 'the same outcome as evaluating again');
});

test('a record change is seen once the 30 s answer expires, not before', async () => {
  const { cache, deps, advance } = setup();
  const first = await checkDmarc(input, deps);
  assert.equal(first.result && first.result.policy, 'reject');
  dns.setZones(zones('v=DMARC1; p=none'));
  try {
    advance(29_000);
    const o = await checkDmarc(input, deps);
    assert.equal(o.result && o.result.policy, 'reject', 'still the cached result');
    assert.equal(o, first);
    assert.equal(cache.hits, 1);
    advance(2_000);
    const after = await checkDmarc(input, deps);
    assert.equal(after.result && after.result.policy, 'none', 'expired: evaluated again');
  } finally {
    dns.setZones(zones('v=DMARC1; p=reject'));
  }
});

test('a subdomain without its own record: the negative answer and the organizational record both bound the result', async () => {
  const { resolver, deps, advance } = setup();
  const sub: DmarcInput = { headerFrom: ['dev@mail.fabrikam.example'], spfDomains: [], dkimDomains: [] };
  const o = await checkDmarc(sub, deps);
  assert.equal(o.lookups, 2, '_dmarc.mail.fabrikam.example (none) then _dmarc.fabrikam.example');
  assert.equal(o.result && o.result.policy, 'none', 'sp=none of the organizational record');
  const calls = resolver.stats().queries;
  advance(44_000);
  await checkDmarc(sub, deps);
  assert.equal(resolver.stats().queries, calls, 'within the negative TTL (SOA minimum 45 s): cached');
  advance(2_000);
  await checkDmarc(sub, deps);
  assert.ok(resolver.stats().queries > calls, 'the negative answer expired: evaluated again');
});

test('every input mailauth reads is in the key: From, SPF-passed and DKIM-passed domains (and key size), ARC', async () => {
  const { deps } = setup();
  // Each pair differs in one input only, and the second's result differs from the cached first's.
  const spfPass: DmarcInput = { ...input, spfDomains: ['contoso.example'] };
  assert.equal(await result(spfPass, deps), 'pass');
  assert.equal(await result({ ...spfPass, headerFrom: ['bob@fabrikam.example'] }, deps), 'fail', 'From');
  assert.equal(await result(input, deps), 'fail');
  assert.equal(await result({ ...input, spfDomains: ['contoso.example'] }, deps), 'pass', 'SPF domains');
  assert.equal(await result({ ...input, dkimDomains: [{ domain: 'contoso.example' }] }, deps), 'pass', 'DKIM domains');
  const small = await checkDmarc({ ...input, dkimDomains: [{ domain: 'contoso.example', underSized: true }] }, deps);
  assert.equal(small.result && small.result.alignment.dkim.underSized, true, 'key size flag');
  assert.equal(await result({ ...input, headerFrom: ['a@contoso.example', 'b@fabrikam.example'] }, deps), 'no-result');
  const withArc = await checkDmarc({ ...input, arcResult: { status: { result: 'pass' } } as unknown as DmarcInput['arcResult'] }, deps);
  assert.match(String(withArc.result && withArc.result.status.comment), /arc=pass/, 'ARC');
  const plain = await checkDmarc(input, deps);
  assert.doesNotMatch(String(plain.result && plain.result.status.comment), /arc=/);
});

test('a temperror is never kept', async () => {
  const { cache, deps } = setup(300);
  const other: DmarcInput = { headerFrom: ['x@other.example'], spfDomains: [], dkimDomains: [] };
  dns.silent = true;
  try {
    assert.equal(await result(other, deps), 'temperror');
  } finally {
    dns.silent = false;
  }
  assert.equal(cache.size, 0);
  assert.equal(await result(other, deps), 'none');
  assert.equal(cache.size, 1);
});

test('authenticate with the DMARC cache: the same facts and lookup count on a hit as on the first evaluation', async () => {
  const { resolver, deps } = setup();
  const message = Buffer.from('From: alice@contoso.example\r\nSubject: x\r\n\r\nbody\r\n');
  const adeps = { resolver: resolver.resolve, tracked: resolver.tracked, cache: new SpfCache(10), dmarcCache: deps.cache, now: deps.now };
  const auth = () => authenticate({ message, clientIp: '198.51.100.9', helo: 'gw.fabrikam.example', mailFrom: 'alice@contoso.example', mta: 'mx.test' }, adeps);
  const first = await auth();
  const second = await auth();
  assert.equal(deps.cache.hits, 1, 'the second DMARC came from the cache');
  assert.equal(first.dmarc.result, 'fail');
  assert.equal(first.dmarc.policy, 'reject');
  const { elapsedMs: _a, ...a } = first;
  const { elapsedMs: _b, ...b } = second;
  assert.deepEqual(b, a);
  const uncached = await authenticate({ message, clientIp: '198.51.100.9', helo: 'gw.fabrikam.example', mailFrom: 'alice@contoso.example', mta: 'mx.test' }, { resolver: resolver.resolve });
  const { elapsedMs: _c, ...c } = uncached;
  assert.deepEqual(c, a, 'and the same as without any result cache');
});
