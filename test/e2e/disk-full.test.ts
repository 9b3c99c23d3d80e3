/**
 * End to end (issue 19 item 7): a full disk never makes mailgate deliver a message twice. The data
 * dir lives on a small tmpfs the test mounts (root needed; skipped with a message otherwise, and
 * required under CI=true). Messages are accepted, their deliveries held at the next hop (a sink
 * that answers only when the test lets it), then the file system is filled (the WAL truncated
 * first, so SQLite must grow a file to commit) and the next hop answers 250:
 *   A. the store cannot record those deliveries; MAIL FROM gets 452 4.3.1; once space is freed
 *      the same process records them (retried in memory), nothing is sent twice, and the trace
 *      rows written meanwhile (the 452, the DELIVER events) are not lost;
 *   B. the same, but the gateway is killed (-9) while the disk is full and started again after
 *      space is freed: the delivered-outcome journal is applied at recovery, every message is
 *      delivered exactly once and has its DELIVER event.
 * Touches: a tmpfs it mounts and unmounts, loopback sockets, the gateway child processes it starts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { applyConfig, baseConfig, freePort, mxListenerOf, nextHopRoute, startGateway, type Gateway } from '../helpers/gateway.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { REPLIES } from '../../src/smtp/replies.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, fn: () => boolean, ms = 30_000): Promise<void> {
  for (const until = Date.now() + ms; !fn(); await sleep(100)) if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
}

/** A next hop that answers a message's DATA only while `open` (held replies go out when it opens). */
async function gatedSink(): Promise<{ port: number; subjects: string[]; held: number; open(): void; shut(): void; close(): Promise<void> }> {
  const subjects: string[] = [];
  let waiting: Array<() => void> = [];
  let isOpen = true;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, _s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const answer = (): void => {
          subjects.push(/^Subject: (.*)$/m.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? '');
          cb();
        };
        if (isOpen) answer();
        else waiting.push(answer);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const a = server.server.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    subjects,
    get held() {
      return waiting.length;
    },
    open() {
      isOpen = true;
      for (const w of waiting.splice(0)) w();
    },
    shut() {
      isOpen = false;
    },
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

let mnt = '';
after(() => {
  if (mnt) {
    spawnSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

/** Make SQLite grow a file to commit (truncate the WAL), then fill the file system. */
function fillDisk(dataDir: string, filler: string): void {
  const db = openDatabase(join(dataDir, 'mailgate.db'));
  try {
    for (let i = 0; i < 50; i++) {
      const r = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (r[0]?.busy === 0) break;
    }
  } finally {
    db.close();
  }
  const fd = openSync(filler, 'a');
  try {
    for (const chunk of [1024 * 1024, 4096, 512]) {
      const b = Buffer.alloc(chunk, 1);
      try {
        for (;;) writeSync(fd, b);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

async function sendBatch(port: number, prefix: string, n: number): Promise<void> {
  const c = await SmtpTestClient.connect({ port });
  await c.cmd('EHLO client.test');
  for (let i = 0; i < n; i++) {
    const r = await c.sendMail('app@contoso.test', ['user@example.com'], message({ from: 'app@contoso.test', to: 'user@example.com', subject: `${prefix}-${i}` }));
    assert.equal(r.eod?.code, 250, r.eod?.text ?? r.mail.text);
  }
  await c.quit();
}

function count(dataDir: string, sql: string): number {
  const db = openDatabase(join(dataDir, 'mailgate.db'), { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const occurrences = (log: string, text: string): number => log.split(text).length - 1;

test('a full disk: deliveries the store could not record are never sent again, alive or after kill -9 and restart', { timeout: 240_000 }, async (t) => {
  if (process.getuid?.() !== 0) {
    if (process.env.CI === 'true') assert.fail('this test mounts a tmpfs and must run as root under CI=true');
    return t.skip('not root: cannot mount the small tmpfs this test fills');
  }
  mnt = mkdtempSync(join(tmpdir(), 'mailgate-full-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=40m,mode=0700', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    if (process.env.CI === 'true') assert.fail(`mount tmpfs failed: ${m.stderr}`);
    return t.skip(`cannot mount a tmpfs here: ${m.stderr.trim()}`);
  }
  const dataDir = join(mnt, 'data');
  const filler = join(mnt, 'filler');
  mkdirSync(dataDir);
  const sink = await gatedSink();
  const port = await freePort();
  const base = baseConfig({ mx: port, submission: port });
  applyConfig(dataDir, {
    ...base,
    authentication: { enabled: false, deadlineMs: 8000 },
    receiveConnectors: [{ ...mxListenerOf(base), port, tls: { mode: 'none', requestClientCert: false } }],
    routes: [nextHopRoute(sink.port)],
    queue: { retryInitialSeconds: 60, retryMaxSeconds: 3600, maxAgeSeconds: 172_800, activeWindow: 100, keepFinalHours: 24, minFreeMegabytes: 2 },
  });
  let gw: Gateway | undefined = await startGateway(dataDir, [port]);
  try {
    // A: the same process records what it delivered once space is back.
    sink.shut();
    await sendBatch(port, 'A', 10);
    // (Pooled connections send one message at a time each: the rest follow once it answers.)
    await waitFor('a delivery of A held at the next hop', () => sink.held >= 1);
    fillDisk(dataDir, filler);
    await sleep(1100); // the free-space gauge looks once a second
    const c = await SmtpTestClient.connect({ port });
    await c.cmd('EHLO client.test');
    const mail = await c.cmd('MAIL FROM:<late@contoso.test>');
    const r = REPLIES['insufficient-storage'];
    assert.ok(mail.text.startsWith(`${r.code} ${r.enhanced} ${r.text} [`), mail.text);
    await c.quit();
    sink.open();
    await waitFor('the outcomes of A refused by the store', () => occurrences(gw?.log() ?? '', 'delivery outcome not recorded') >= 10);
    assert.equal(sink.subjects.length, 10);
    assert.match(gw.log(), /trace records kept for retry/);
    await sleep(2000);
    rmSync(filler);
    await waitFor('A recorded as delivered', () => count(dataDir, `SELECT count(*) AS n FROM queue_message WHERE state = 'done'`) === 10);
    await waitFor('the DELIVER events of A', () => count(dataDir, `SELECT count(*) AS n FROM trace_event WHERE event = 'DELIVER'`) === 10);
    await waitFor('the 452 trace row', () => count(dataDir, `SELECT count(*) AS n FROM trace_message WHERE reply LIKE '452 4.3.1%'`) === 1);

    // B: killed while the disk is full; the next start applies the outcome journal.
    sink.shut();
    await sendBatch(port, 'B', 10);
    await waitFor('a delivery of B held at the next hop', () => sink.held >= 1);
    fillDisk(dataDir, filler);
    const refusedBefore = occurrences(gw.log(), 'delivery outcome not recorded');
    sink.open();
    await waitFor('the outcomes of B refused by the store', () => occurrences(gw?.log() ?? '', 'delivery outcome not recorded') >= refusedBefore + 10);
    assert.equal(sink.subjects.length, 20);
    await gw.kill9();
    gw = undefined;
    rmSync(filler);
    gw = await startGateway(dataDir, [port]);
    assert.match(gw.log(), /"outcomesApplied":10/);
    await waitFor('every message done', () => count(dataDir, `SELECT count(*) AS n FROM queue_message WHERE state = 'done'`) === 20);
    await sleep(3000); // room for a second delivery, which must not come
    const want = [...Array.from({ length: 10 }, (_v, i) => `A-${i}`), ...Array.from({ length: 10 }, (_v, i) => `B-${i}`)].sort();
    assert.deepEqual([...sink.subjects].sort(), want, 'every message delivered exactly once');
    assert.equal(count(dataDir, `SELECT count(*) AS n FROM trace_event WHERE event = 'DELIVER'`), 20, 'a DELIVER event for each');
  } finally {
    await gw?.stop();
    await sink.close();
  }
});
