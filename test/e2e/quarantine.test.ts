/**
 * End to end: the quarantine an admin runs, over real SMTP into a real `mailgate serve` (with its
 * admin listener), a loopback DNS server (the sender's DMARC p=quarantine) and a next-hop sink.
 * A quarantined message keeps its reason; `quarantine show` previews it; two admins releasing at
 * once deliver it once; a release whose delivery a kill -9 interrupts delivers it once after the
 * restart; a release to one recipient delivers to that one only; a deleted message never comes
 * back after a kill -9; each action is traced with who did it; the recipient's notification
 * arrives at the next hop, its link (a GET changes nothing, the form's POST requests) leads to an
 * admin's approval and one delivery.
 * Touches: a temp data dir, loopback ports, the gateway processes it starts (stopped by PID).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.ts';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { applyConfig, baseConfig, cliAsync, freePort, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { getTrace } from '../../src/stores/sqlite/trace-search.ts';

const READY_MS = 120_000; // bounds for a busy machine, not timing assertions
const WAIT_MS = 60_000;

let dns: TestDnsServer;
let sink: Sink;
let gw: Gateway;
let dir: string;
let mx = 0;
let admin = 0;

async function start(): Promise<void> {
  gw = await startGateway(dir, [mx, admin], { env: { MAILGATE_DNS_SERVERS: dns.address }, readyMs: READY_MS });
}

before(async () => {
  dns = await startDnsServer({
    'shop.test': { TXT: ['v=spf1 ip4:127.0.0.40 -all'] },
    '_dmarc.shop.test': { TXT: ['v=DMARC1; p=quarantine'] },
  });
  sink = await startSink();
  dir = tempDir();
  mx = await freePort();
  admin = await freePort();
  applyConfig(dir, {
    ...baseConfig({ mx, submission: await freePort(), admin }),
    organization: { name: 'example.com', hostname: 'mx.mailgate.test', honorDmarcPolicy: true },
    routes: [{ name: 'hop', domains: ['*'], type: 'smtp', host: '127.0.0.1', port: sink.port, tls: 'none' }],
    quarantine: { notify: 'immediate' },
  });
  await start();
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  await dns?.stop();
  removeDir(dir);
});

/** Send a message from shop.test (DMARC p=quarantine, SPF fails from this IP): it is held. */
async function quarantined(subject: string, to: string[] = ['user@example.com'], body = 'hello'): Promise<string> {
  const c = await SmtpTestClient.connect({ port: mx, localAddress: '127.0.0.9' });
  await c.cmd('EHLO client.test');
  const r = await c.sendMail('orders@shop.test', to, message({ from: 'orders@shop.test', to: to.join(', '), subject, body }));
  await c.quit();
  assert.equal(r.eod?.code, 250, r.eod?.text);
  const id = /queued as (\S+)/.exec(r.eod?.text ?? '')?.[1];
  assert.ok(id);
  return id;
}

const mg = (...args: string[]) => cliAsync(dir, args);
const deliveries = (subject: string) => sink.messages.filter((m) => m.raw.includes(`Subject: ${subject}\r\n`));

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (const end = Date.now() + WAIT_MS; Date.now() < end; ) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The queue row's state as the CLI sees it ('' when there is none). */
async function queueState(id: string): Promise<string> {
  const r = await mg('queue', 'show', id, '--format', 'json');
  return r.code === 0 ? (JSON.parse(r.stdout) as { state: string }).state : '';
}

function events(id: string): Array<{ event: string; recipient?: string | undefined; detail?: string | undefined }> {
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    return getTrace(db, id)?.events ?? [];
  } finally {
    db.close();
  }
}

test('a DMARC-quarantined message keeps its reason and facts; show previews it; two concurrent releases deliver it exactly once, traced', async () => {
  const id = await quarantined('overdue invoice', ['user@example.com'], 'Please pay \u001b[31mnow\u001b[0m.');
  const list = await mg('quarantine', 'list', '--reason', 'dmarc', '--format', 'json');
  assert.equal(list.code, 0, list.stderr);
  const item = (JSON.parse(list.stdout) as Array<Record<string, string>>).find((x) => x.id === id);
  assert.ok(item, list.stdout);
  assert.equal(item.reason, 'DMARC p=quarantine of shop.test');
  assert.match(item.headerFrom ?? '', /orders@shop\.test/);
  assert.equal(item.subject, 'overdue invoice');
  assert.equal(item.recipients, 'user@example.com');
  assert.match(item.dmarc ?? '', /^fail/);
  const show = await mg('quarantine', 'show', id);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /Please pay \?\[31mnow\?\[0m\./, 'the preview is escaped for the terminal');
  assert.ok(!show.stdout.includes('\u001b'));

  const [a, b] = await Promise.all([mg('quarantine', 'release', id, '--why', 'a'), mg('quarantine', 'release', id, '--why', 'b')]);
  assert.deepEqual([a.code, b.code].sort(), [0, 1], `${a.stdout}${a.stderr}${b.stdout}${b.stderr}`);
  assert.match((a.code === 1 ? a : b).stderr, /not in quarantine|released or changed by someone else/);
  await until('the delivery', () => deliveries('overdue invoice').length > 0);
  await until('the row to be done', async () => (await queueState(id)) === 'done');
  assert.equal(deliveries('overdue invoice').length, 1);
  const released = events(id).filter((e) => e.event === 'RELEASE');
  assert.equal(released.length, 1);
  assert.match(released[0]?.detail ?? '', /^released by \S+: [ab]$/);
});

test('a release to one recipient delivers to that one only; the others stay quarantined until released', async () => {
  const id = await quarantined('two of us', ['one@example.com', 'two@example.com']);
  const r = await mg('quarantine', 'release', id, '--to', 'two@example.com');
  assert.equal(r.code, 0, r.stderr);
  await until('the first delivery', () => deliveries('two of us').length > 0);
  assert.deepEqual(deliveries('two of us').map((m) => m.to), [['two@example.com']]);
  const list = await mg('quarantine', 'list', '--recipient', 'one@example.com', '--format', 'json');
  const left = (JSON.parse(list.stdout) as Array<Record<string, string>>).find((x) => x.id === id);
  assert.equal(left?.recipients, 'one@example.com');
  assert.equal((await mg('quarantine', 'release', id, '--to', 'two@example.com')).code, 1, 'released already');
  assert.equal((await mg('quarantine', 'release', id)).code, 0);
  await until('the second delivery', () => deliveries('two of us').length > 1);
  await until('the row to be done', async () => (await queueState(id)) === 'done');
  assert.deepEqual(deliveries('two of us').map((m) => m.to), [['two@example.com'], ['one@example.com']]);
});

test('a release cut short by kill -9 (state changed, not yet delivered) delivers exactly once after the restart', async () => {
  const id = await quarantined('crash mid release');
  await gw.kill9();
  // The release commits while nothing can deliver: the crash falls between the state change and delivery.
  const r = await mg('quarantine', 'release', id);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(deliveries('crash mid release').length, 0);
  await start();
  await until('the delivery', () => deliveries('crash mid release').length > 0);
  await until('the row to be done', async () => (await queueState(id)) === 'done');
  assert.equal(deliveries('crash mid release').length, 1);
});

test('a message deleted from quarantine never comes back after kill -9 and a restart; the delete is traced', async () => {
  const id = await quarantined('delete then crash');
  const d = await mg('quarantine', 'delete', id, '--why', 'phish');
  assert.equal(d.code, 0, d.stderr);
  await gw.kill9();
  await start();
  await until('recovery', () => /queue recovered/.test(gw.log()));
  // A marker sent after the restart is delivered: the scheduler ran passes since the recovery.
  const c = await SmtpTestClient.connect({ port: mx, localAddress: '127.0.0.40' });
  await c.cmd('EHLO client.test');
  const m = await c.sendMail('orders@shop.test', ['user@example.com'], message({ from: 'orders@shop.test', to: 'user@example.com', subject: 'marker' }));
  await c.quit();
  assert.equal(m.eod?.code, 250, m.eod?.text);
  await until('the marker', () => deliveries('marker').length > 0);
  assert.equal(deliveries('delete then crash').length, 0);
  assert.equal(await queueState(id), '');
  assert.equal((await mg('quarantine', 'show', id)).code, 1);
  assert.match(events(id).find((e) => e.event === 'DELETE')?.detail ?? '', /^deleted from quarantine by \S+: phish$/);
});

/** The text part of a notification (base64, as buildNotice writes it). */
function noticeText(raw: string): string {
  const m = /Content-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(raw);
  return m ? Buffer.from((m[1] ?? '').replace(/\r\n/g, ''), 'base64').toString('utf8') : '';
}

test('notification → request over HTTP (a GET changes nothing) → admin approves → delivered exactly once', async () => {
  const id = await quarantined('please approve me', ['boss@example.com']);
  let link = '';
  await until('the notification', () => {
    for (const m of sink.messages.filter((x) => x.to.includes('boss@example.com') && /^Auto-Submitted: auto-generated\r$/m.test(x.raw))) {
      const hit = /Subject: please approve me\r\n[^\n]*\n(?:Request release: (\S+))/.exec(noticeText(m.raw));
      if (hit?.[1]) link = hit[1];
    }
    return link !== '';
  });
  assert.ok(link.startsWith(`http://127.0.0.1:${admin}/quarantine/request/`), link);
  const page = await fetch(link);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<form method="post"/);
  assert.ok(!/<script/i.test(html));
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const none = await mg('quarantine', 'requests', '--format', 'json');
  assert.deepEqual(JSON.parse(none.stdout), [], 'a GET requests nothing');
  const post = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  assert.equal(post.status, 200, await post.text());
  assert.equal((await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })).status, 409, 'a link is used once');
  const reqs = JSON.parse((await mg('quarantine', 'requests', '--format', 'json')).stdout) as Array<{ id: string; message: string; recipient: string }>;
  assert.deepEqual(reqs.map((r) => [r.message, r.recipient]), [[id, 'boss@example.com']]);
  const [a, b] = await Promise.all([mg('quarantine', 'approve', reqs[0]?.id ?? ''), mg('quarantine', 'approve', reqs[0]?.id ?? '')]);
  assert.ok(a.code === 0 || b.code === 0, `${a.stderr}${b.stderr}`);
  await until('the delivery', () => deliveries('please approve me').length > 0);
  await until('the row to be done', async () => (await queueState(id)) === 'done');
  assert.equal(deliveries('please approve me').length, 1);
  assert.equal(events(id).filter((e) => e.event === 'RELEASE').length, 1);
});
