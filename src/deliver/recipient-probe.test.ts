/**
 * @module deliver/recipient-probe.test
 * The RCPT probe against loopback mailbox servers: over verified STARTTLS (test CA) it tells an
 * existing address from an unknown one and never sends DATA; an impostor certificate under
 * `verify` makes it unable to tell (never "exists"); answers are cached until their TTL; a
 * pickup route has nobody to ask.
 * Touches: loopback sockets and a temp dir only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from '../config/schema.ts';
import { createRecipientVerifier } from './recipient-probe.ts';
import { startSink, type Sink } from '../../test/helpers/sink.ts';
import { createTestCa, issueCert, writePem } from '../../test/helpers/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-probe-'));
const ca = createTestCa();
const caFile = writePem(dir, 'ca.pem', ca.cert);
const good = issueCert(ca, { cn: 'mailbox.contoso.test', sans: ['mailbox.contoso.test'], server: true });
const impostor = createTestCa('attacker.invalid');
const sinks: Sink[] = [];
after(async () => {
  await Promise.all(sinks.map((s) => s.close()));
});

async function sink(pem: { key: string; cert: string }): Promise<Sink> {
  const s = await startSink(0, { tls: pem, knownRcpts: ['alice@contoso.test'] });
  sinks.push(s);
  return s;
}

const TTL = { positive: 60, negative: 30 };

function verifier(s: Sink, route: Partial<Route>, clock: { t: number }) {
  const routes: Route[] = [{ name: 'mailbox', domains: ['contoso.test'], type: 'smtp', host: 'mailbox.contoso.test', port: 25, tls: 'verify', caFile, pickupDir: 'pickup', ...route }];
  return createRecipientVerifier({ routes: () => routes, hostname: 'gw.test', resolveMx: async () => [], connectTo: () => ({ host: '127.0.0.1', port: s.port }), timeoutMs: 5000, now: () => clock.t });
}

test('over verified STARTTLS: exists / unknown, no DATA, cached until the TTL', async () => {
  const s = await sink(good);
  const clock = { t: 1_000_000 };
  const v = verifier(s, {}, clock);
  assert.equal(await v('alice@contoso.test', TTL), 'exists');
  assert.equal(await v('ghost@contoso.test', TTL), 'unknown');
  assert.deepEqual(s.rcpts, ['alice@contoso.test', 'ghost@contoso.test']);
  assert.equal(s.messages.length, 0);
  assert.equal(await v('GHOST@contoso.test', TTL), 'unknown');
  assert.equal(s.rcpts.length, 2, 'cached (case-insensitively)');
  clock.t += 31_000;
  assert.equal(await v('ghost@contoso.test', TTL), 'unknown');
  assert.equal(await v('alice@contoso.test', TTL), 'exists');
  assert.deepEqual(s.rcpts.slice(2), ['ghost@contoso.test'], 'the negative answer expired, the positive one did not');
});

test('an impostor certificate under verify: cannot tell (the address is not asked)', async () => {
  const s = await sink(impostor);
  const v = verifier(s, {}, { t: 0 });
  assert.equal(await v('alice@contoso.test', TTL), 'unverified');
  assert.deepEqual(s.rcpts, [], 'no RCPT over an unverified connection');
});

test('a pickup route has nobody to ask: every address passes; no route: cannot tell', async () => {
  const s = await sink(good);
  const v = verifier(s, { type: 'pickup' }, { t: 0 });
  assert.equal(await v('anyone@contoso.test', TTL), 'exists');
  assert.equal(await v('x@elsewhere.test', TTL), 'unverified');
  assert.equal(await v('bad\r\nRCPT TO:<x>@contoso.test', TTL), 'unknown');
});
