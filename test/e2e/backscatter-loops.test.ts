/**
 * Issue 19 items 4 and 5 against a real `mailgate serve` over real SMTP sessions: recipient
 * validation (list, inline and a file reloaded on change; verify, a cached RCPT probe to a
 * loopback mailbox server that rejects unknown users; 450 4.1.1 while the probe cannot tell),
 * the hop count limit (51 Received headers refused 554 5.4.6), and `config validate` refusing a
 * route that points back at the gateway's own listener.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSink, type Sink } from '../helpers/sink.ts';
import { closedPort } from '../helpers/dns-server.ts';
import { applyConfig, baseConfig, cli, freePort, mxListenerOf, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';

const TRACE_ID = /\[[0-9A-Z]+@[^\]\s]+\]$/;
const DBEB = /^550 5\.4\.1 Recipient address rejected: Access denied\. AS\(201806281\) \[[0-9A-Z]+@[^\]\s]+\]$/;

let dir = '';
let port = 0;
let sink: Sink;
let gw: Gateway;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  dir = tempDir();
  sink = await startSink(0, { knownRcpts: ['alice@verified.test', 'bob@sender.test'] });
  port = await freePort();
  const dead = await closedPort();
  writeFileSync(join(dir, 'recipients.txt'), '# people\nfile1@listed.test\n\nFile2@Listed.test  # mixed case\n');
  const base = baseConfig({ mx: port, submission: port });
  applyConfig(dir, {
    ...base,
    acceptedDomains: [
      { domainName: 'listed.test', recipientValidation: 'list', recipients: ['inline@listed.test'], recipientsFile: 'recipients.txt' },
      { domainName: 'verified.test', recipientValidation: 'verify' },
      { domainName: 'doubt.test', recipientValidation: 'verify' },
      { domainName: 'open.test' },
    ],
    receiveConnectors: [{ ...mxListenerOf(base), port, tls: { mode: 'none', requestClientCert: false } }],
    routes: [
      { name: 'mailbox', domains: ['*'], type: 'smtp', host: '127.0.0.1', port: sink.port, tls: 'none' },
      { name: 'down', domains: ['doubt.test'], type: 'smtp', host: '127.0.0.1', port: dead, tls: 'none' },
    ],
  });
  gw = await startGateway(dir, [port]);
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  removeDir(dir);
});

async function rcpt(address: string): Promise<string> {
  const c = await SmtpTestClient.connect({ port });
  await c.cmd('EHLO client.test');
  await c.cmd('MAIL FROM:<bob@sender.test>');
  const r = await c.cmd(`RCPT TO:<${address}>`);
  await c.quit();
  return r.text;
}

test('list: inline and file addresses pass; anyone else gets 550 5.4.1 AS(201806281) with the trace id', async () => {
  assert.match(await rcpt('inline@listed.test'), /^250 /);
  assert.match(await rcpt('file1@listed.test'), /^250 /);
  assert.match(await rcpt('FILE2@listed.test'), /^250 /, 'addresses compare case-insensitively');
  assert.match(await rcpt('nobody@listed.test'), DBEB);
  assert.match(await rcpt('anyone@open.test'), /^250 /, 'a domain without validation takes every recipient');
});

test('list: the recipients file is re-read when it changes', async () => {
  assert.match(await rcpt('new@listed.test'), DBEB);
  writeFileSync(join(dir, 'recipients.txt'), 'new@listed.test\n');
  await sleep(1200); // the file is looked at at most once a second
  assert.match(await rcpt('new@listed.test'), /^250 /);
  assert.match(await rcpt('file1@listed.test'), DBEB, 'an address removed from the file is refused');
});

test('verify: the next hop is asked with a probe (never DATA), the answer cached both ways', async () => {
  const before = sink.rcpts.length;
  assert.match(await rcpt('alice@verified.test'), /^250 /);
  assert.match(await rcpt('ghost@verified.test'), DBEB);
  assert.deepEqual(sink.rcpts.slice(before), ['alice@verified.test', 'ghost@verified.test']);
  assert.match(await rcpt('ghost@verified.test'), DBEB);
  assert.match(await rcpt('alice@verified.test'), /^250 /);
  assert.equal(sink.rcpts.length, before + 2, 'the second answers came from the cache');
  assert.equal(sink.messages.length, 0, 'a probe sends no message');
});

test('verify: a next hop that cannot be asked gives 450 4.1.1 (never an accept)', async () => {
  const r = await rcpt('someone@doubt.test');
  assert.match(r, /^450 4\.1\.1 Recipient address verification in progress, try again later/);
  assert.match(r, TRACE_ID);
});

function withReceived(n: number, subject: string): string {
  const hops = Array.from({ length: n }, (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; Mon, 7 Dec 2026 10:00:00 +0000`);
  return message({ from: 'bob@sender.test', to: 'anyone@open.test', subject, extraHeaders: hops });
}

test('hop count: 51 Received headers are refused 554 5.4.6 at end of DATA; 49 are accepted', async () => {
  const c = await SmtpTestClient.connect({ port });
  await c.cmd('EHLO client.test');
  const loop = await c.sendMail('bob@sender.test', ['anyone@open.test'], withReceived(51, 'looping'));
  assert.match(loop.eod?.text ?? '', /^554 5\.4\.6 Error: too many hops \(51 Received headers, limit 50\): mail forwarding loop \[[0-9A-Z]+@[^\]\s]+\]$/);
  const ok = await c.sendMail('bob@sender.test', ['anyone@open.test'], withReceived(49, 'fine'));
  assert.match(ok.eod?.text ?? '', /^250 /);
  await c.quit();
});

test('config validate refuses a route that points at the gateway own listener', () => {
  const file = join(dir, 'loop.yaml');
  const yaml = (host: string, bind: string, routePort: number): string =>
    [
      'receiveConnectors:',
      `  - { name: mx, bind: '${bind}', port: 2525, role: mx }`,
      'routes:',
      `  - { name: back, domains: ['*'], type: smtp, host: '${host}', port: ${routePort}, tls: none }`,
      '',
    ].join('\n');
  writeFileSync(file, yaml('127.0.0.1', '0.0.0.0', 2525));
  const r = cli(dir, ['config', 'validate', '-f', file]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /routes\[0\]\.host: .*127\.0\.0\.1:2525 is this gateway's own receive connector "mx" \(0\.0\.0\.0:2525\): a mail loop/);
  writeFileSync(file, yaml('127.0.0.1', '0.0.0.0', 2526));
  assert.equal(cli(dir, ['config', 'validate', '-f', file]).code, 0, 'another port is another server');
  // every address form is covered by src/config/self-route.test.ts
});
