/**
 * @module test/auth/authenticate.test
 * auth/authenticate end to end over real DNS on loopback: SPF results, DKIM with a key the test
 * generates and publishes, DMARC alignment and policies, compauth and spoofSuspect, the header we
 * stamp, and the cache economy (1,000 messages → one query per (name, type)).
 * Touches: 127.0.0.1 sockets only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { authenticate, checkSpf, createResolver, isOurAuthResults } from '../../src/auth/index.ts';
import type { AuthInput } from '../../src/auth/index.ts';
import { signDkim } from '../helpers/dkim.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import type { TestDnsServer, Zones } from '../helpers/dns-server.ts';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pubB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const zones: Zones = {
  'pass.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
  'fail.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
  'soft.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 ~all'] },
  'neutral.example': { TXT: ['v=spf1 ?all'] },
  'nospf.example': { A: ['192.0.2.1'] },
  'two.example': { TXT: ['v=spf1 -all', 'v=spf1 +all'] },
  'syntax.example': { TXT: ['v=spf1 ip4:300.1.1.1 -all'] },
  'mx.pass.example': { A: ['192.0.2.25'] },
  // DMARC domains
  'contoso.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
  '_dmarc.contoso.example': { TXT: ['v=DMARC1; p=reject; sp=quarantine; pct=50'] },
  'sub.contoso.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
  'sel1._domainkey.contoso.example': { TXT: [`v=DKIM1; k=rsa; p=${pubB64}`] },
  'bounce.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
};

let dns: TestDnsServer;
before(async () => {
  dns = await startDnsServer(zones);
});
after(() => dns.stop());

const message = (from: string, body = 'Hello.\r\n') =>
  Buffer.from(`From: <${from}>\r\nTo: <user@inside.example>\r\nSubject: test\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\nMessage-ID: <m1@x>\r\n\r\n${body}`);

const signed = (raw: Buffer, domain = 'contoso.example', selector = 'sel1') => signDkim(raw, { domain, selector, privateKey: privPem });

const run = (over: Partial<AuthInput>, resolver = createResolver({ servers: [dns.address], timeoutMs: 300, tries: 1 })) =>
  authenticate({ message: message('a@pass.example'), clientIp: '192.0.2.10', helo: 'mail.pass.example', mailFrom: 'a@pass.example', mta: 'mx.mailgate.test', ...over }, { resolver: resolver.resolve });

test('SPF: pass, fail, softfail, neutral, none, permerror', async () => {
  const cases: Array<[string, string]> = [
    ['pass.example', 'pass'],
    ['fail.example', 'fail'],
    ['soft.example', 'softfail'],
    ['neutral.example', 'neutral'],
    ['nospf.example', 'none'],
    ['nonexistent.example', 'none'],
    ['two.example', 'permerror'],
    ['syntax.example', 'permerror'],
  ];
  for (const [domain, want] of cases) {
    const f = await run({ mailFrom: `a@${domain}`, message: message(`a@${domain}`) });
    assert.equal(f.spf.result, want, domain);
    assert.equal(f.spf.domain, domain);
  }
  const f = await run({});
  assert.equal(f.spf.lookups, 0);
  assert.match(f.receivedSpfHeader ?? '', /^Received-SPF: pass .*client-ip=192\.0\.2\.10;\r\n$/s);
});

test('SPF: temperror when the DNS server does not answer, bounded by the timeout', async () => {
  dns.silent = true;
  try {
    const t0 = Date.now();
    const f = await run({ mailFrom: 'a@other.example', message: message('a@other.example') });
    assert.equal(f.spf.result, 'temperror');
    assert.ok(Date.now() - t0 < 3000);
    assert.match(f.authResultsHeader, /spf=temperror/);
  } finally {
    dns.silent = false;
  }
});

test('never throws: a broken input stream gives temperror facts', async () => {
  const broken = new Readable({
    read() {
      this.destroy(new Error('client went away'));
    },
  });
  const f = await run({ message: broken });
  assert.equal(f.spf.result, 'temperror');
  assert.equal(f.dmarc.result, 'temperror');
  assert.match(f.error ?? '', /client went away/);
  assert.match(f.authResultsHeader, /^Authentication-Results: mx\.mailgate\.test;\r\n/);
});

test('HELO identity is checked too', async () => {
  const f = await run({ helo: 'mx.pass.example' });
  assert.equal(f.heloSpf?.domain, 'mx.pass.example');
  assert.equal(f.heloSpf?.result, 'none');
});

test('DKIM: pass with a published 2048-bit key; fail after a body change; missing key', async () => {
  const raw = await signed(message('a@contoso.example'));
  const ok = await run({ message: raw, mailFrom: 'bounce@bounce.example', clientIp: '198.51.100.7' });
  assert.deepEqual(ok.dkim.map((d) => [d.domain, d.selector, d.result, d.aligned]), [['contoso.example', 'sel1', 'pass', true]]);
  assert.match(ok.authResultsHeader, /dkim=pass \(signature was verified\) header\.d=contoso\.example header\.s=sel1/);

  const tampered = Buffer.from(raw.toString().replace('Hello.', 'Hellp.'));
  const bad = await run({ message: tampered, mailFrom: 'bounce@bounce.example', clientIp: '198.51.100.7' });
  assert.equal(bad.dkim[0]?.result, 'fail');
  assert.equal(bad.dkim[0]?.info, 'body hash did not verify');

  const nokey = await run({ message: await signed(message('a@contoso.example'), 'contoso.example', 'gone'), mailFrom: 'bounce@bounce.example' });
  assert.equal(nokey.dkim[0]?.result, 'permerror');
  assert.equal(nokey.dkim[0]?.info, 'no key');

  const unsigned = await run({});
  assert.deepEqual(unsigned.dkim, []);
  assert.match(unsigned.authResultsHeader, /dkim=none \(message not signed\)/);
});

test('DMARC: pass through SPF alignment', async () => {
  const f = await run({ mailFrom: 'a@contoso.example', message: message('a@contoso.example') });
  assert.equal(f.dmarc.result, 'pass');
  assert.deepEqual(f.dmarc.alignment, { spf: true, dkim: false });
  assert.equal(f.dmarc.policy, 'reject');
  assert.deepEqual(f.compauth, { result: 'pass', reason: '102' });
  assert.equal(f.spoofSuspect, false);
});

test('DMARC: pass through DKIM alignment while SPF fails', async () => {
  const f = await run({ message: await signed(message('a@contoso.example')), mailFrom: 'a@contoso.example', clientIp: '198.51.100.7' });
  assert.equal(f.spf.result, 'fail');
  assert.equal(f.dmarc.result, 'pass');
  assert.deepEqual(f.dmarc.alignment, { spf: false, dkim: true });
  assert.deepEqual(f.compauth, { result: 'pass', reason: '101' });
});

test('DMARC: fail with p=reject; spoof of an accepted domain', async () => {
  const input = { message: message('ceo@contoso.example'), mailFrom: 'ceo@contoso.example', clientIp: '203.0.113.9', helo: 'evil.invalid' };
  const f = await run(input);
  assert.equal(f.spf.result, 'fail');
  assert.deepEqual(f.dkim, []);
  assert.equal(f.dmarc.result, 'fail');
  assert.equal(f.dmarc.policy, 'reject');
  assert.equal(f.dmarc.p, 'reject');
  assert.equal(f.dmarc.pct, 50);
  assert.equal(f.dmarc.headerFrom, 'contoso.example');
  assert.deepEqual(f.compauth, { result: 'fail', reason: '000' });
  assert.equal(f.spoofSuspect, true);
  assert.match(f.authResultsHeader, /dmarc=fail \(p=reject sp=quarantine pct=50\) action=oreject header\.from=contoso\.example;\r\n arc=none;\r\n compauth=fail reason=000\r\n$/);
  const ours = await run({ ...input, isAcceptedDomain: (d) => d === 'contoso.example' });
  assert.deepEqual(ours.compauth, { result: 'fail', reason: '010' });
});

test('DMARC: a subdomain gets the org record sp=', async () => {
  const f = await run({ message: message('a@sub.contoso.example'), mailFrom: 'a@sub.contoso.example', clientIp: '203.0.113.9' });
  assert.equal(f.dmarc.result, 'fail');
  assert.equal(f.dmarc.p, 'reject');
  assert.equal(f.dmarc.policy, 'quarantine');
  assert.equal(f.dmarc.sp, 'quarantine');
});

test('no DMARC record: compauth 109 when SPF passes for the From domain, 001 when nothing passes', async () => {
  const a = await run({});
  assert.equal(a.dmarc.result, 'none');
  assert.deepEqual(a.compauth, { result: 'pass', reason: '109' });
  const b = await run({ message: message('x@fail.example'), mailFrom: 'x@fail.example' });
  assert.deepEqual(b.compauth, { result: 'fail', reason: '001' });
  assert.equal(b.spoofSuspect, false, 'no DMARC fail: not a spoof suspect by our definition');
  const c = await run({ message: message('x@fail.example'), mailFrom: 'a@pass.example' });
  assert.deepEqual(c.compauth, { result: 'softpass', reason: '200' });
});

test('cache economy: 1,000 messages from one sender → one query per (name, type)', async () => {
  const resolver = createResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 });
  const raw = await signed(message('a@contoso.example'));
  dns.resetLog();
  for (let i = 0; i < 1000; i++) {
    const f = await run({ message: raw, mailFrom: 'a@contoso.example', helo: 'mx.pass.example' }, resolver);
    assert.equal(f.dmarc.result, 'pass');
  }
  const perKey = new Map<string, number>();
  for (const q of dns.queries) perKey.set(`${q.type} ${q.name}`, (perKey.get(`${q.type} ${q.name}`) ?? 0) + 1);
  assert.ok(perKey.size >= 3, [...perKey.keys()].join(', '));
  for (const [key, n] of perKey) assert.equal(n, 1, key);
  const s = resolver.stats();
  assert.equal(s.upstream, perKey.size);
  assert.ok(s.hits > 900 * perKey.size);
});

test('SPF from the transaction (input.spf) is used as given, not evaluated again; its lookups are counted', async () => {
  const resolver = createResolver({ servers: [dns.address], timeoutMs: 300, tries: 1 });
  const asked: string[] = [];
  const spy = (name: string, type: string) => {
    asked.push(`${type} ${name}`);
    return resolver.resolve(name, type);
  };
  const identities = { clientIp: '192.0.2.10', helo: 'mx.pass.example', mailFrom: 'a@pass.example', mta: 'mx.mailgate.test' };
  const pre = await checkSpf(identities, { resolver: resolver.resolve });
  assert.equal(pre.mailFrom.status?.result, 'pass');
  assert.ok(pre.helo, 'HELO identity evaluated too');
  // A different outcome than DNS would give proves which one authenticate() reports.
  const given = { ...pre, mailFrom: { ...pre.mailFrom, status: { result: 'softfail' } } };
  const f = await authenticate({ ...identities, message: message('a@pass.example'), spf: Promise.resolve(given) }, { resolver: spy });
  assert.equal(f.spf.result, 'softfail');
  assert.ok(!asked.includes('TXT pass.example'), `no SPF lookup at DATA: ${asked.join(', ')}`);
  assert.equal(f.dnsLookups, asked.length + pre.lookups);
  assert.equal(f.heloSpf?.domain, 'mx.pass.example');
  const noHelo = await authenticate({ ...identities, message: message('a@pass.example'), spf: Promise.resolve(pre) }, { resolver: spy, checkHelo: false });
  assert.equal(noHelo.heloSpf, undefined, 'checkHelo: false drops a HELO result started by the caller');
});

test('isOurAuthResults recognises our authserv-id only', () => {
  assert.equal(isOurAuthResults('mx.mailgate.test; spf=pass smtp.mailfrom=x', 'mx.mailgate.test'), true);
  assert.equal(isOurAuthResults('Authentication-Results:  MX.Mailgate.Test ; dkim=pass', 'mx.mailgate.test'), true);
  assert.equal(isOurAuthResults(' (forged) "mx.mailgate.test"; none', 'mx.mailgate.test'), true);
  assert.equal(isOurAuthResults('mx.mailgate.test 1; none', 'mx.mailgate.test'), true);
  assert.equal(isOurAuthResults('mx.mailgate.test.evil.example; spf=pass', 'mx.mailgate.test'), false);
  assert.equal(isOurAuthResults('other.example; spf=pass', 'mx.mailgate.test'), false);
  assert.equal(isOurAuthResults('', 'mx.mailgate.test'), false);
});
