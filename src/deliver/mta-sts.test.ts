/**
 * @module deliver/mta-sts.test
 * MTA-STS (RFC 8461) on an mx route, end to end on loopback: MX and `_mta-sts` TXT records from
 * the in-process DNS server, the policy from a loopback HTTPS server whose certificate comes from
 * a test CA (the real HTTPS fetcher, given that CA), the MX served by a TLS sink. Enforce with an
 * unlisted MX defers and sends nothing; enforce verifies TLS even on a `may` route; testing
 * delivers and logs; the cached policy is used for its max_age without a refetch.
 * Touches: loopback sockets and a temp dir only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { createServer, type Server } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Route } from '../config/schema.ts';
import type { DeliveryRequest } from '../queue/contract.ts';
import { createSmtpClient, type SmtpClient } from './smtp.ts';
import { httpsPolicyFetcher, mxAllowed, type MtaStsDeps } from './mta-sts.ts';
import { startSink, type Sink } from '../../test/helpers/sink.ts';
import { startDnsServer, type TestDnsServer } from '../../test/helpers/dns-server.ts';
import { createTestCa, issueCert, writePem } from '../../test/helpers/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-sts-'));
const ca = createTestCa();
const caFile = writePem(dir, 'ca.pem', ca.cert);
const web = issueCert(ca, { cn: 'mta-sts.contoso.test', sans: ['mta-sts.contoso.test', 'mta-sts.fabrikam.test'], server: true });
const mxCert = issueCert(ca, { cn: 'mx.contoso.test', sans: ['mx.contoso.test', 'mx.fabrikam.test', 'evil.attacker.test'], server: true });

/** Policy text by domain; `fetches` counts requests. */
const policies = new Map<string, string>();
let fetches = 0;
let https: Server;
let dns: TestDnsServer;
let sink: Sink;
const clients: SmtpClient[] = [];
const warnings: string[] = [];

/** All zones; contoso.test's MX and policy id vary between steps. */
const zones = (contosoMx: string, contosoId: string): Parameters<TestDnsServer['setZones']>[0] => ({
  'contoso.test': { MX: [[10, contosoMx]] },
  '_mta-sts.contoso.test': { TXT: [`v=STSv1; id=${contosoId}`] },
  'fabrikam.test': { MX: [[10, 'mx.other.test']] },
  '_mta-sts.fabrikam.test': { TXT: ['v=STSv1; id=1'] },
  'plain.test': { MX: [[10, 'mx.contoso.test']] },
});

const policy = (mode: string, mx: string[], maxAge = 86400): string => `version: STSv1\r\nmode: ${mode}\r\n${mx.map((m) => `mx: ${m}\r\n`).join('')}max_age: ${maxAge}\r\n`;

test.before(async () => {
  https = createServer({ key: web.key, cert: web.cert }, (req, res) => {
    fetches++;
    const host = String(req.headers.host ?? '').replace(/^mta-sts\./, '');
    const body = req.url === '/.well-known/mta-sts.txt' ? policies.get(host) : undefined;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((res) => https.listen(0, '127.0.0.1', res));
  sink = await startSink(0, { tls: mxCert });
  dns = await startDnsServer(zones('evil.attacker.test', '20261207a'));
});
after(async () => {
  await Promise.all(clients.map((c) => c.closeAll()));
  await sink.close();
  await new Promise<void>((res) => https.close(() => res()));
  await dns.stop();
});

function client(): SmtpClient {
  const resolver = new Resolver();
  resolver.setServers([dns.address]);
  const addr = https.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const mtaSts: MtaStsDeps = {
    resolveTxt: (name) => resolver.resolveTxt(name),
    fetchPolicy: httpsPolicyFetcher({ ca: ca.cert, connectTo: () => ({ host: '127.0.0.1', port }), timeoutMs: 3000 }),
    warn: (msg, fields) => warnings.push(`${msg} ${JSON.stringify(fields)}`),
  };
  const c = createSmtpClient({
    hostname: 'mailgate.test',
    resolveMx: (d) => resolver.resolveMx(d),
    connectTo: () => ({ host: '127.0.0.1', port: sink.port }),
    timeouts: { connection: 3000, greeting: 3000, socket: 5000 },
    mtaSts,
  });
  clients.push(c);
  return c;
}

const MSG = 'From: a@sender.test\r\nSubject: sts\r\n\r\nbody\r\n';
function request(rcpt: string): DeliveryRequest {
  return {
    queueId: '01MTASTSTEST000000', mailFrom: 'a@sender.test', recipients: [rcpt], attempt: 1,
    meta: { id: '01MTASTSTEST000000', receivedAt: 0, envelope: { mailFrom: 'a@sender.test', rcptTo: [rcpt] }, size: MSG.length, prependHeaders: '', facts: {} },
    openMessage: () => Readable.from([Buffer.from(MSG)]),
  };
}
const mxRoute = (over: Partial<Route> = {}): Route => ({ name: 'internet', domains: ['*'], type: 'mx', port: 25, tls: 'may', pickupDir: 'pickup', caFile, ...over });

test('enforce: an MX the policy does not list gets nothing (deferred 4.7.5); a listed one gets it over verified TLS', async () => {
  policies.set('contoso.test', policy('enforce', ['mx.contoso.test']));
  const c = client();
  const before = sink.messages.length;
  const [o] = await c.deliverMx(mxRoute(), request('u@contoso.test'), ['u@contoso.test']);
  assert.equal(o?.status, 'deferred', o?.reply);
  assert.equal(o?.enhanced, '4.7.5');
  assert.match(o?.reply ?? '', /MTA-STS policy of contoso\.test \(enforce\) lists none of its MX hosts \(evil\.attacker\.test\)/);
  assert.equal(sink.messages.length, before, 'nothing delivered to the unlisted MX');
  assert.equal(fetches, 1);

  dns.setZones(zones('mx.contoso.test', '20261207a'));
  const [ok] = await c.deliverMx(mxRoute(), request('u@contoso.test'), ['u@contoso.test']);
  assert.equal(ok?.status, 'delivered', ok?.reply);
  assert.equal(sink.messages.at(-1)?.secure, true);
  // enforce makes TLS verified: without the CA that signed the MX certificate, nothing goes.
  const [unverified] = await c.deliverMx(mxRoute({ name: 'no-ca', caFile: undefined }), request('u@contoso.test'), ['u@contoso.test']);
  assert.equal(unverified?.status, 'deferred');
  assert.equal(unverified?.enhanced, '4.7.5');
  assert.match(unverified?.reply ?? '', /TLS certificate verification failed for mx\.contoso\.test \(tls: verify\)/);
  assert.equal(fetches, 1, 'the policy was cached for its max_age, not fetched again');
});

test('cache: an unexpired policy with an unchanged TXT id is not refetched, even if the file changed', async () => {
  policies.set('contoso.test', policy('none', []));
  dns.setZones(zones('evil.attacker.test', '20261207a'));
  const c = client();
  const n = fetches;
  const [first] = await c.deliverMx(mxRoute(), request('u@contoso.test'), ['u@contoso.test']);
  assert.equal(first?.status, 'delivered', 'a new client has no cache: it fetched mode none');
  assert.equal(fetches, n + 1);
  policies.set('contoso.test', policy('enforce', ['mx.contoso.test']));
  const [second] = await c.deliverMx(mxRoute(), request('u@contoso.test'), ['u@contoso.test']);
  assert.equal(second?.status, 'delivered', 'the cached policy (none) still applies');
  assert.equal(fetches, n + 1);
  dns.setZones(zones('evil.attacker.test', '20261207b'));
  const [third] = await c.deliverMx(mxRoute(), request('u@contoso.test'), ['u@contoso.test']);
  assert.equal(third?.status, 'deferred', 'a new TXT id makes the policy refetched: now enforce');
  assert.equal(fetches, n + 2);
});

test('testing: an unlisted MX still gets the message, and the mismatch is logged', async () => {
  policies.set('fabrikam.test', policy('testing', ['mx.fabrikam.test']));
  const c = client();
  const before = sink.messages.length;
  const [o] = await c.deliverMx(mxRoute(), request('u@fabrikam.test'), ['u@fabrikam.test']);
  assert.equal(o?.status, 'delivered', o?.reply);
  assert.equal(sink.messages.length, before + 1);
  assert.ok(warnings.some((w) => /MTA-STS testing: MX host not in policy.*mx\.other\.test/.test(w)), warnings.join('\n'));
});

test('no policy (no TXT record): delivered as the route says; mtaSts: false skips the lookup', async () => {
  const c = client();
  const [o] = await c.deliverMx(mxRoute(), request('u@plain.test'), ['u@plain.test']);
  assert.equal(o?.status, 'delivered', o?.reply);
  dns.resetLog();
  const [off] = await c.deliverMx(mxRoute({ name: 'off', mtaSts: false }), request('u@plain.test'), ['u@plain.test']);
  assert.equal(off?.status, 'delivered');
  assert.equal(dns.count('_mta-sts.plain.test'), 0);
});

test('MX patterns: a wildcard matches one leftmost label only (RFC 8461 §4.1)', () => {
  const p = { id: '1', mode: 'enforce' as const, mx: ['*.contoso.test', 'mail.fabrikam.test'], maxAge: 60, expiresAt: 0 };
  assert.equal(mxAllowed('mx1.contoso.test', p), true);
  assert.equal(mxAllowed('a.b.contoso.test', p), false);
  assert.equal(mxAllowed('contoso.test', p), false);
  assert.equal(mxAllowed('mail.fabrikam.test.', p), true);
  assert.equal(mxAllowed('evil.test', p), false);
});
