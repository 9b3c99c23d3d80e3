/**
 * Alerts end to end: a real `mailgate serve` evaluating every second; a new Direct Send source
 * (127.0.0.2) sends real SMTP; a webhook receiver on loopback (node:http) gets exactly one alert,
 * signed with HMAC-SHA256 of its body, and no second one when the same source sends again; the
 * alert also arrives as mail through the gateway's own queue; it is listed and acknowledged with
 * the CLI; `alert test-webhook` reaches the receiver.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openDatabase } from '../../src/core/sqlite.ts';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { applyConfig, baseConfig, cli, cliAsync, freePort, nextHopRoute, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { startSink, type Sink } from '../helpers/sink.ts';

const SECRET = 'webhook-secret-of-this-test-0123';
let dir: string;
let gw: Gateway;
let sink: Sink;
let hook: Server;
let mxPort: number;
const posts: Array<{ body: string; signature: string; json: Record<string, unknown> }> = [];

before(async () => {
  dir = tempDir();
  sink = await startSink();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      posts.push({ body, signature: String(req.headers['x-mailgate-signature'] ?? ''), json: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  const ports = { mx: await freePort(), submission: await freePort() };
  mxPort = ports.mx;
  applyConfig(dir, {
    ...baseConfig(ports),
    routes: [nextHopRoute(sink.port)],
    alerts: { intervalSeconds: 1, learningDays: 0, webhooks: [{ url, secret: SECRET }], email: { to: ['postmaster@example.com'] } },
  });
  gw = await startGateway(dir, [ports.mx, ports.submission]);
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  removeDir(dir);
});

async function directSend(subject: string): Promise<void> {
  const c = await SmtpTestClient.connect({ port: mxPort, localAddress: '127.0.0.2' });
  assert.equal((await c.cmd('EHLO scanner.test')).code, 250);
  const r = await c.sendMail('scanner@example.com', ['user@example.com'], message({ from: 'scanner@example.com', to: 'user@example.com', subject }));
  assert.equal(r.eod?.code, 250, r.eod?.text);
  await c.quit();
}

/** The owner's last evaluation time (alert_meta), read from the store. */
function lastRun(): number {
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const r = db.prepare(`SELECT value FROM alert_meta WHERE name = 'last_run'`).get() as { value: number } | undefined;
    return r?.value ?? 0;
  } catch {
    return 0; // the table is created by the owner's first evaluation
  } finally {
    db.close();
  }
}

async function until(fn: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms; // a bound, not a timing assertion
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${gw.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a new Direct Send source: one signed webhook alert, not two; listed and acknowledged', async () => {
  await directSend('first from a new scanner');
  await until(() => posts.length >= 1, 'the webhook post');
  const p = posts[0];
  assert.ok(p);
  const expected = `sha256=${createHmac('sha256', SECRET).update(p.body, 'utf8').digest('hex')}`;
  assert.ok(p.signature.length === expected.length && timingSafeEqual(Buffer.from(p.signature), Buffer.from(expected)), `signature ${p.signature}`);
  assert.equal(p.json.kind, 'new-source');
  assert.equal(p.json.key, 'ip:127.0.0.2');
  // The same alert as mail, queued through the gateway and delivered to the route's next hop.
  await until(() => sink.messages.some((m) => m.to.includes('postmaster@example.com')), 'the alert mail');
  const mail = sink.messages.find((m) => m.to.includes('postmaster@example.com'));
  assert.match(mail?.raw ?? '', /^Subject: \[mailgate alert\] new-source: new Direct Send source 127\.0\.0\.2/m);
  assert.match(mail?.raw ?? '', /^Auto-Submitted: auto-generated\r$/m);
  // The same source again, then two more evaluations past it: still one post.
  await directSend('second from the same scanner');
  const sentAt = Date.now();
  await until(() => lastRun() > sentAt + 1500, 'two evaluations after the second message');
  assert.equal(posts.length, 1, JSON.stringify(posts.map((x) => x.json)));

  const list = cli(dir, ['alert', 'list', '--format', 'json']);
  assert.equal(list.code, 0, list.stderr);
  const alerts = JSON.parse(list.stdout) as Array<{ id: number; kind: string; key: string; state: string }>;
  assert.deepEqual(alerts.map((a) => [a.kind, a.key, a.state]), [['new-source', 'ip:127.0.0.2', 'open']]);
  const ack = cli(dir, ['alert', 'ack', String(alerts[0]?.id)]);
  assert.equal(ack.code, 0, ack.stderr);
  assert.match(ack.stdout, /acknowledged/);
  assert.equal(cli(dir, ['alert', 'ack', String(alerts[0]?.id)]).code, 1, 'a second ack is refused');
  assert.deepEqual(JSON.parse(cli(dir, ['alert', 'list', '--format', 'json']).stdout), []);

  // Not the synchronous cli(): the receiver runs on this process's event loop.
  const t = await cliAsync(dir, ['alert', 'test-webhook']);
  assert.equal(t.code, 0, t.stdout + t.stderr);
  assert.match(t.stdout, /delivered \(HTTP 204\)/);
  await until(() => posts.some((x) => x.json.kind === 'test'), 'the test post');
});
