/**
 * End to end: SPF, DKIM and DMARC on every anonymous message through a real `mailgate serve`,
 * with every DNS answer coming from an in-process authoritative server on loopback. DMARC
 * p=reject is refused with Exchange's exact 5.7.509 text, p=quarantine is held, results are
 * stamped in Authentication-Results (a forged one claiming our authserv-id is removed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { signDkim } from '../helpers/dkim.ts';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.ts';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { applyConfig, baseConfig, freePort, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { QueueStore } from '../../src/queue/index.ts';
import { getTrace } from '../../src/stores/sqlite/trace-search.ts';

const AUTHSERV = 'mx.mailgate.test';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pubB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let dns: TestDnsServer;
let sink: Sink;
let gw: Gateway;
let dir: string;
let port = 0;

before(async () => {
  dns = await startDnsServer({
    'bank.test': { TXT: ['v=spf1 ip4:127.0.0.40 -all'] },
    '_dmarc.bank.test': { TXT: ['v=DMARC1; p=reject'] },
    'shop.test': { TXT: ['v=spf1 ip4:127.0.0.40 -all'] },
    '_dmarc.shop.test': { TXT: ['v=DMARC1; p=quarantine'] },
    'signed.test': { TXT: ['v=spf1 -all'] },
    '_dmarc.signed.test': { TXT: ['v=DMARC1; p=reject'] },
    'sel1._domainkey.signed.test': { TXT: [`v=DKIM1; k=rsa; p=${pubB64}`] },
    'early.test': { TXT: ['v=spf1 ip4:127.0.0.40 -all'] },
    '_dmarc.early.test': { TXT: ['v=DMARC1; p=reject'] },
    'refused.test': { TXT: ['v=spf1 ip4:127.0.0.40 -all'] },
  });
  sink = await startSink();
  dir = tempDir();
  port = await freePort();
  applyConfig(dir, {
    ...baseConfig({ mx: port, submission: await freePort() }),
    organization: { name: 'example.com', hostname: AUTHSERV, honorDmarcPolicy: true },
    inboundConnectors: [{ name: 'OnPrem', connectorType: 'OnPremises', senderIPAddresses: ['127.0.0.30/32'] }],
    routes: [{ name: 'hop', domains: ['*'], type: 'smtp', host: '127.0.0.1', port: sink.port, tls: 'none' }],
  });
  gw = await startGateway(dir, [port], { env: { MAILGATE_DNS_SERVERS: dns.address } });
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  await dns?.stop();
  removeDir(dir);
});

async function send(ip: string, from: string, raw: string): Promise<{ code?: number; text?: string; id?: string }> {
  const c = await SmtpTestClient.connect({ port, localAddress: ip });
  await c.cmd('EHLO client.test');
  const r = await c.sendMail(from, ['user@example.com'], raw);
  await c.quit();
  return { code: r.eod?.code, text: r.eod?.text, id: /queued as (\S+)/.exec(r.eod?.text ?? '')?.[1] };
}

async function delivered(subject: string): Promise<string> {
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    const m = sink.messages.find((x) => x.raw.includes(`Subject: ${subject}\r\n`));
    if (m) return m.raw;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${subject} not delivered`);
}

test('DMARC fail with p=reject is refused at end of DATA with the exact 5.7.509 reply', async () => {
  const r = await send('127.0.0.9', 'ceo@bank.test', message({ from: 'ceo@bank.test', to: 'user@example.com', subject: 'wire transfer' }));
  assert.equal(r.code, 550);
  assert.equal(r.text?.replace(/ \[[^\]]+\]$/, ''), '550 5.7.509 Access denied, sending domain bank.test does not pass DMARC verification and has a DMARC policy of reject.');
});

test('SPF pass aligns DMARC; Authentication-Results is stamped and a forged one is removed', async () => {
  const raw = message({
    from: 'ceo@bank.test',
    to: 'user@example.com',
    subject: 'spf pass',
    extraHeaders: [`Authentication-Results: ${AUTHSERV}; spf=pass smtp.mailfrom=evil.test; dmarc=pass`, 'Authentication-Results: other.example; spf=fail'],
  });
  const r = await send('127.0.0.40', 'ceo@bank.test', raw);
  assert.equal(r.code, 250, r.text);
  const got = await delivered('spf pass');
  const ours = got.split(/\r\n(?=\S)/).filter((h) => h.startsWith(`Authentication-Results: ${AUTHSERV}`));
  assert.equal(ours.length, 1, 'exactly one A-R with our authserv-id: ours');
  assert.match(ours[0] ?? '', /spf=pass/);
  assert.match(ours[0] ?? '', /dmarc=pass/);
  assert.doesNotMatch(got, /evil\.test/);
  assert.match(got, /Authentication-Results: other\.example; spf=fail/, 'another host’s A-R is kept');
});

test('DKIM pass aligns DMARC even when SPF fails', async () => {
  const raw = Buffer.from(message({ from: 'news@signed.test', to: 'user@example.com', subject: 'signed news' }));
  const signed = await signDkim(raw, { domain: 'signed.test', selector: 'sel1', privateKey: privPem });
  const r = await send('127.0.0.41', 'news@signed.test', signed.toString());
  assert.equal(r.code, 250, r.text);
  const got = await delivered('signed news');
  assert.match(got, /dkim=pass[^;]*header\.d=signed\.test/);
  assert.match(got, /spf=fail/);
  assert.match(got, /dmarc=pass/);
});

test('DKIM signature storm: 700 signatures cost at most 5 key lookups, the From-aligned one is verified, the rest are traced as not checked', async () => {
  const raw = Buffer.from(message({ from: 'news@signed.test', to: 'user@example.com', subject: 'signature storm' }));
  const signed = (await signDkim(raw, { domain: 'signed.test', selector: 'sel1', privateKey: privPem })).toString('latin1');
  const bh = /bh=([^;]+);/.exec(signed)?.[1]?.replace(/\s+/g, '');
  assert.ok(bh, 'the real signature has a body hash');
  // 699 signatures with the right body hash (no key is needed for that) at names the attacker
  // picks, all before the real one: a verifier in header order would never reach it.
  const storm = Array.from({ length: 699 }, (_, i) => `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=storm${i}.test; s=s${i}; h=from:subject; bh=${bh}; b=AAAA\r\n`).join('');
  dns.resetLog();
  const r = await send('127.0.0.42', 'news@signed.test', storm + signed);
  assert.equal(r.code, 250, r.text);
  const keyLookups = dns.queries.filter((q) => q.name.includes('._domainkey.'));
  assert.ok(keyLookups.length <= 5, `${keyLookups.length} DKIM key lookups: ${keyLookups.map((q) => q.name).slice(0, 10).join(', ')}`);
  const got = await delivered('signature storm');
  assert.match(got, /dkim=pass[^;]*header\.d=signed\.test/, 'the aligned signature was among those verified');
  assert.match(got, /dmarc=pass/);
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const rows = JSON.parse(getTrace(db, r.id ?? '')?.message.dkim ?? '[]') as Array<{ d: string; result: string }>;
    assert.equal(rows.length, 700);
    assert.equal(rows.filter((x) => x.result === 'not-checked').length, 695);
    assert.ok(rows.some((x) => x.d === 'signed.test' && x.result === 'pass'));
  } finally {
    db.close();
  }
});

test('DMARC p=quarantine is accepted into hold, not delivered, traced as Quarantined', async () => {
  const r = await send('127.0.0.9', 'orders@shop.test', message({ from: 'orders@shop.test', to: 'user@example.com', subject: 'invoice overdue' }));
  assert.equal(r.code, 250, r.text);
  assert.ok(r.id);
  await new Promise((res) => setTimeout(res, 1500));
  assert.ok(!sink.messages.some((m) => m.raw.includes('invoice overdue')));
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    assert.equal(new QueueStore(db).get(r.id)?.state, 'hold');
    const t = getTrace(db, r.id);
    assert.equal(t?.message.status, 'Quarantined');
    assert.ok(t?.events.some((e) => e.event === 'QUARANTINE'));
  } finally {
    db.close();
  }
});

test('an OnPremises connector is exempt from DMARC rejection', async () => {
  const r = await send('127.0.0.30', 'ceo@bank.test', message({ from: 'ceo@bank.test', to: 'user@example.com', subject: 'from on-prem' }));
  assert.equal(r.code, 250, r.text);
  assert.match(await delivered('from on-prem'), /dmarc=fail/);
});

test('DNS answers are cached: many messages, one query per name', async () => {
  dns.resetLog();
  for (let i = 0; i < 5; i++) {
    const r = await send('127.0.0.40', 'ceo@bank.test', message({ from: 'ceo@bank.test', to: 'user@example.com', subject: `cached ${i}` }));
    assert.equal(r.code, 250, r.text);
  }
  assert.equal(dns.count('bank.test', 'TXT'), 0, 'SPF record already cached by earlier tests');
  assert.equal(dns.count('_dmarc.bank.test', 'TXT'), 0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('SPF starts at the first accepted RCPT, before DATA; a transaction refused at RCPT makes no lookup', async () => {
  dns.resetLog();
  const c = await SmtpTestClient.connect({ port, localAddress: '127.0.0.40' });
  try {
    await c.cmd('EHLO client.test');
    assert.equal((await c.cmd('MAIL FROM:<a@early.test>')).code, 250);
    await sleep(200);
    assert.equal(dns.count('early.test', 'TXT'), 0, 'not at MAIL FROM');
    assert.equal((await c.cmd('RCPT TO:<user@example.com>')).code, 250);
    for (const end = Date.now() + 3000; dns.count('early.test', 'TXT') === 0 && Date.now() < end; ) await sleep(10);
    assert.equal(dns.count('early.test', 'TXT'), 1, 'the SPF record was asked for while the client had not sent DATA yet');
    assert.equal((await c.cmd('DATA')).code, 354);
    const raw = message({ from: 'a@early.test', to: 'user@example.com', subject: 'early spf' });
    c.write(raw.endsWith('\r\n') ? `${raw}.\r\n` : `${raw}\r\n.\r\n`);
    const eod = await c.reply();
    assert.equal(eod.code, 250, eod.text);
  } finally {
    await c.quit();
  }
  assert.match(await delivered('early spf'), /spf=pass \(sender IP is 127\.0\.0\.40\)[^;]*smtp\.mailfrom=early\.test/);

  const r = await SmtpTestClient.connect({ port, localAddress: '127.0.0.40' });
  try {
    await r.cmd('EHLO client.test');
    assert.equal((await r.cmd('MAIL FROM:<b@refused.test>')).code, 250);
    const rcpt = await r.cmd('RCPT TO:<someone@elsewhere.example>');
    assert.equal(rcpt.code, 550, rcpt.text);
    await sleep(200);
  } finally {
    await r.quit();
  }
  assert.equal(dns.count('refused.test'), 0, 'relay denied at RCPT: no SPF lookup');
});
