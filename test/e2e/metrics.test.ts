/**
 * GET /metrics of a real `mailgate serve --workers 2` after real SMTP traffic: the scrape holds both
 * receive workers' counters summed with the owner's series (connections were handed round-robin,
 * so each worker took some), and Debian's `promtool check metrics` accepts the exposition.
 * promtool absent: skipped with a message, except under CI=true, where it must run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { applyConfig, baseConfig, freePort, mxListenerOf, nextHopRoute, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { startSink, type Sink } from '../helpers/sink.ts';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = !promtool && process.env.CI !== 'true' ? 'promtool not installed (Debian package prometheus); CI installs it' : false;

let dir: string;
let gw: Gateway;
let sink: Sink;
let adminPort: number;
let mxName: string;
const CONNECTIONS = 6;
/** Connections counted before the test's own (the readiness probes of startGateway). */
let before0 = 0;

before(async () => {
  dir = tempDir();
  sink = await startSink();
  const ports = { mx: await freePort(), submission: await freePort(), admin: await freePort() };
  adminPort = ports.admin;
  const base = baseConfig(ports);
  mxName = mxListenerOf(base).name;
  applyConfig(dir, { ...base, routes: [nextHopRoute(sink.port)] });
  gw = await startGateway(dir, [ports.mx, ports.submission, ports.admin], { workers: 2, env: { NODE_CLUSTER_SCHED_POLICY: 'rr' }, readyTimeoutMs: 120_000 });
  before0 = value((await scrape()).text, `mailgate_connections_total{listener="${mxName}",outcome="accepted"}`) ?? 0;
  for (let i = 0; i < CONNECTIONS; i++) {
    const c = await SmtpTestClient.connect({ port: ports.mx });
    assert.equal((await c.cmd('EHLO printer.test')).code, 250);
    // Even: a Direct Send message (accepted); odd: a relay for outside domains (refused at RCPT).
    const to = i % 2 === 0 ? 'user@example.com' : 'someone@elsewhere.test';
    const from = i % 2 === 0 ? 'printer@example.com' : 'x@outside.test';
    await c.sendMail(from, [to], message({ from, to, subject: `m${i}` }));
    await c.quit();
  }
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  removeDir(dir);
});

async function scrape(): Promise<{ status: number; type: string; text: string }> {
  const r = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

/** The value of one series line, e.g. `mailgate_connections_total{listener="mx",outcome="accepted"}`. */
function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

test('one scrape sums both workers and passes promtool check metrics', { skip }, async () => {
  const r = await scrape();
  assert.equal(r.status, 200, r.text);
  assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(value(r.text, 'mailgate_scrape_workers{state="answered"}'), 2, r.text);
  assert.equal(value(r.text, 'mailgate_scrape_workers{state="missing"}'), 0);
  // Round-robin handed each worker some of the connections: only the sum of both is CONNECTIONS.
  assert.equal(value(r.text, `mailgate_connections_total{listener="${mxName}",outcome="accepted"}`), before0 + CONNECTIONS, r.text);
  assert.equal(value(r.text, `mailgate_transactions_total{listener="${mxName}",outcome="accepted"}`), CONNECTIONS / 2);
  assert.equal(value(r.text, `mailgate_messages_total{attribution="direct-send",connector="",verdict="accepted",code="250"}`), CONNECTIONS / 2);
  assert.match(r.text, /^mailgate_messages_total\{attribution="[a-z-]+",connector="",verdict="rejected",code="5\.7\.\d+"\} 3$/m);
  assert.match(r.text, /^mailgate_config_version \d+$/m);
  assert.match(r.text, /^mailgate_queue_messages\{state="deferred"\} \d+$/m);
  assert.doesNotMatch(r.text, /127\.0\.0\.1|@example\.com/, 'no IP or address in any label');
  const check = spawnSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
});
