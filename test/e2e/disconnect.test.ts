/**
 * End to end: a client that goes away in the middle of DATA leaves nothing behind — no spool file
 * (small messages are held in memory; a message past the spool's 128 KiB threshold already has a
 * file in msg/), no open descriptor — and the gateway takes the next message as usual.
 * Touches: loopback sockets, a temp data dir, the gateway child process it starts, /proc/<pid>/fd.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { startMxGateway, type Gateway, type MxGateway } from '../helpers/gateway.ts';

const FROM = 'bob@contoso.test';
const RCPT = 'user@example.com';
let mg: MxGateway;
let dir: string;
let gw: Gateway;
let port = 0;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const spoolFiles = (): string[] => readdirSync(join(dir, 'spool', 'msg'));
const openFds = (): number => readdirSync(`/proc/${gw.proc.pid}/fd`).length;

before(async () => {
  mg = await startMxGateway({ tls: { mode: 'none', requestClientCert: false }, maxMessageSize: 4_000_000 });
  ({ dir, gw, port } = mg);
});

after(async () => {
  await mg?.stop();
});

async function abandon(bodyBytes: number): Promise<void> {
  const c = await SmtpTestClient.connect({ port });
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  assert.equal((await c.cmd(`MAIL FROM:<${FROM}>`)).code, 250);
  assert.equal((await c.cmd(`RCPT TO:<${RCPT}>`)).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  const line = 'x'.repeat(998) + '\r\n';
  c.write(`From: <${FROM}>\r\nTo: <${RCPT}>\r\nSubject: abandoned\r\n\r\n` + line.repeat(Math.ceil(bodyBytes / line.length)));
  await sleep(300); // let the gateway take the bytes (and spill them to msg/)
  c.destroy();
}

test('a client gone mid-DATA leaves no spool file and no open descriptor, small or spilled', { timeout: 60_000 }, async () => {
  // One clean message first: the pools and files a first message opens are open from here on.
  const warm = await SmtpTestClient.connect({ port });
  assert.equal((await warm.cmd('EHLO client.test')).code, 250);
  const w = await warm.sendMail(FROM, [RCPT], message({ from: FROM, to: RCPT, subject: 'warm-up' }));
  assert.equal(w.eod?.code, 250, JSON.stringify(w));
  await warm.quit();
  await sleep(500);
  const fdsBefore = openFds();
  for (const size of [10_000, 600_000, 600_000, 2_000_000]) await abandon(size);
  let files: string[] = [];
  for (let i = 0; i < 40; i++) {
    files = spoolFiles();
    if (files.length === 0 && openFds() <= fdsBefore) break;
    await sleep(100);
  }
  assert.deepEqual(files, [], 'no spool file left by an abandoned message');
  assert.ok(openFds() <= fdsBefore, `descriptors: ${openFds()} now, ${fdsBefore} before`);
  assert.deepEqual(readdirSync(join(dir, 'spool', 'aside')), [], 'nothing moved aside either');
  const after = await SmtpTestClient.connect({ port });
  assert.equal((await after.cmd('EHLO client.test')).code, 250);
  const r = await after.sendMail(FROM, [RCPT], message({ from: FROM, to: RCPT, subject: 'after-abandon' }));
  assert.equal(r.eod?.code, 250, r.eod?.text);
  await after.quit();
});
