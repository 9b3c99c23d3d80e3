/**
 * End to end (issue 19 item 6): one client cannot starve the rest. Against a real `mailgate serve`:
 *   - idle connections from 127.0.0.2 reach the listener's per-client limit (421 4.7.0 with the
 *     trace id, traced) while 127.0.0.1 still completes transactions; a slot freed is reusable;
 *   - an inbound connector's IP and an allow-listed IP are exempt;
 *   - the per-client connection rate limit;
 *   - started under a low open-file limit, the soft limit is the hard one (Node raises it; the
 *     gateway would with prlimit otherwise), and maxConnections is clamped to what fits, with a
 *     logged warning, and enforced.
 * Loads are bounded (at most ~100 connections) and all on loopback.
 * Touches: loopback sockets (127.0.0.x), temp data dirs, the gateway child processes it starts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SmtpTestClient, message, type Reply } from '../helpers/smtp-client.ts';
import { applyConfig, baseConfig, cli, freePort, mxListenerOf, nextHopRoute, removeDir, startGateway, startMxGateway, tempDir, type MxGateway } from '../helpers/gateway.ts';
import { startSink } from '../helpers/sink.ts';
import { REPLIES, type ReplyKey } from '../../src/smtp/replies.ts';

const TRACE_ID = /\[[0-9A-Z]+@[^\]\s]+\]$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let mg: MxGateway;
const open: SmtpTestClient[] = [];

function refusedWith(r: Reply, key: ReplyKey, ip: string): void {
  const e = REPLIES[key];
  const want = `${e.code} ${e.enhanced} ${e.text.replace('{ip}', ip)}`;
  assert.ok(r.text.startsWith(want + ' ['), `got ${JSON.stringify(r.text)}, want ${JSON.stringify(want)} [id@host]`);
  assert.match(r.text, TRACE_ID);
}

async function idle(localAddress: string, port = mg.port): Promise<SmtpTestClient> {
  const c = await SmtpTestClient.connect({ port, localAddress });
  open.push(c);
  return c;
}

before(async () => {
  mg = await startMxGateway(
    { tls: { mode: 'none', requestClientCert: false }, maxConnectionsPerClient: 5, maxConnectionRatePerClient: 12 },
    {
      inboundConnectors: [{ name: 'Scanners', connectorType: 'OnPremises', senderIPAddresses: ['127.0.0.4/32'] }],
      lists: { allow: { ips: ['127.0.0.3'], senderDomains: [] }, block: { ips: [], senderDomains: [] } },
    },
  );
});

after(async () => {
  for (const c of open) c.destroy();
  await mg?.stop();
});

test('idle connections from one IP hit the per-client limit while another client still sends mail', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await idle('127.0.0.2')).greeting.code, 220);
  const over = await idle('127.0.0.2');
  refusedWith(over.greeting, 'client-connection-limit', '127.0.0.2');
  // The other client is not starved.
  const good = await SmtpTestClient.connect({ port: mg.port, localAddress: '127.0.0.1' });
  assert.equal(good.greeting.code, 220);
  await good.cmd('EHLO good.test');
  const r = await good.sendMail('a@contoso.test', ['user@example.com'], message({ from: 'a@contoso.test', to: 'user@example.com', subject: 'not starved' }));
  assert.equal(r.eod?.code, 250, r.eod?.text ?? r.mail.text);
  await good.quit();
  // A slot freed by one of the five is usable again.
  const first = open.shift();
  await first?.quit();
  await sleep(300);
  assert.equal((await idle('127.0.0.2')).greeting.code, 220);
  // The refusal is traced.
  const until = Date.now() + 10_000;
  let rows: Array<{ clientIp?: string; status?: string; reply?: string }> = [];
  while (Date.now() < until) {
    const t = cli(mg.dir, ['trace', 'search', '--client-ip', '127.0.0.2', '--status', 'Rejected', '--format', 'json']);
    rows = t.code === 0 ? (JSON.parse(t.stdout) as typeof rows) : [];
    if (rows.some((x) => x.reply?.includes('too many connections'))) break;
    await sleep(300);
  }
  assert.ok(rows.some((x) => x.reply?.startsWith('421 4.7.0 Error: too many connections from [127.0.0.2]')), JSON.stringify(rows));
});

test('an inbound connector IP and an allow-listed IP are exempt from the per-client limit', async () => {
  for (const ip of ['127.0.0.3', '127.0.0.4']) {
    for (let i = 0; i < 7; i++) {
      const c = await idle(ip);
      assert.equal(c.greeting.code, 220, `${ip} connection ${i + 1}: ${c.greeting.text}`);
    }
  }
});

test('the connection rate limit refuses the attempt past maxConnectionRatePerClient in a minute', async () => {
  for (let i = 0; i < 12; i++) {
    const c = await SmtpTestClient.connect({ port: mg.port, localAddress: '127.0.0.5' });
    assert.equal(c.greeting.code, 220, `attempt ${i + 1}: ${c.greeting.text}`);
    await c.quit();
  }
  const c = await SmtpTestClient.connect({ port: mg.port, localAddress: '127.0.0.5' });
  refusedWith(c.greeting, 'client-rate-limit', '127.0.0.5');
  c.destroy();
});

test('a low open-file limit: the soft limit is raised to the hard one and maxConnections is clamped, with a warning', async (t) => {
  if (spawnSync('prlimit', ['--version']).status !== 0) {
    if (process.env.CI === 'true') assert.fail('prlimit (util-linux) is required under CI=true');
    return t.skip('prlimit (util-linux) not installed');
  }
  const dir = tempDir();
  const sink = await startSink();
  const port = await freePort();
  const base = baseConfig({ mx: port, submission: port });
  // One listener, no per-client limit: only the descriptor budget limits connections here.
  applyConfig(dir, { ...base, receiveConnectors: [{ ...mxListenerOf(base), port, tls: { mode: 'none', requestClientCert: false }, maxConnectionsPerClient: 0 }], routes: [nextHopRoute(sink.port)] });
  const gw = await startGateway(dir, [port], { prefix: ['prlimit', '--nofile=300:400'] });
  const conns: SmtpTestClient[] = [];
  try {
    const limits = readFileSync(`/proc/${gw.proc.pid}/limits`, 'utf8');
    assert.match(limits, /^Max open files\s+400\s+400/m, 'soft limit raised to the hard limit');
    assert.match(gw.log(), /"soft":400,"hard":400,"msg":"open-file limit \(RLIMIT_NOFILE\)"/);
    // (400 − reserve 64 − 2 × activeWindow 100) / 2 = 68 connections. The port opens before the
    // log line reaches us through the pipe: wait for it (bounded).
    const clamped = /"perListener":68[,}].*maxConnections clamped/;
    for (const until = Date.now() + 10_000; !clamped.test(gw.log()) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    assert.match(gw.log(), clamped);
    for (let i = 0; i < 68; i++) {
      const c = await SmtpTestClient.connect({ port, localAddress: `127.0.1.${1 + (i % 200)}` });
      conns.push(c);
      assert.equal(c.greeting.code, 220, `connection ${i + 1}: ${c.greeting.text}`);
    }
    const over = await SmtpTestClient.connect({ port, localAddress: '127.0.2.1' });
    conns.push(over);
    assert.equal(over.greeting.code, 421, over.greeting.text);
    assert.match(over.greeting.text, /Too many connected clients/);
  } finally {
    for (const c of conns) c.destroy();
    await gw.stop();
    await sink.close();
    removeDir(dir);
  }
});

test('with serve --workers 2 the per-client limit holds across the workers (counted in the primary)', async () => {
  const dir = tempDir();
  const sink = await startSink();
  const port = await freePort();
  const base = baseConfig({ mx: port, submission: port });
  applyConfig(dir, { ...base, receiveConnectors: [{ ...mxListenerOf(base), port, tls: { mode: 'none', requestClientCert: false }, maxConnectionsPerClient: 4 }], routes: [nextHopRoute(sink.port)] });
  // Round-robin: the connections alternate between the workers, so no worker alone sees 4.
  const gw = await startGateway(dir, [port], { workers: 2, env: { NODE_CLUSTER_SCHED_POLICY: 'rr' }, readyTimeoutMs: 120_000 });
  // Both workers listening, so round-robin really alternates between them.
  for (const until = Date.now() + 120_000; (gw.log().match(/"msg":"listening"/g) ?? []).length < 2; ) {
    if (Date.now() > until) throw new Error('the two receive workers did not both start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const conns: SmtpTestClient[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const c = await SmtpTestClient.connect({ port, localAddress: '127.0.0.2' });
      conns.push(c);
      assert.equal(c.greeting.code, 220, `connection ${i + 1}: ${c.greeting.text}`);
    }
    const over = await SmtpTestClient.connect({ port, localAddress: '127.0.0.2' });
    conns.push(over);
    refusedWith(over.greeting, 'client-connection-limit', '127.0.0.2');
    // One closes: its slot is free again, whichever worker held it.
    await conns.shift()?.quit();
    await sleep(300);
    const again = await SmtpTestClient.connect({ port, localAddress: '127.0.0.2' });
    conns.push(again);
    assert.equal(again.greeting.code, 220, again.greeting.text);
  } finally {
    for (const c of conns) c.destroy();
    await gw.stop();
    await sink.close();
    removeDir(dir);
  }
});
