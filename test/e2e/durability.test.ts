/**
 * @module test/e2e/durability
 * End to end: "a 250 means the message is on disk" against a real `mailgate serve --workers 2`
 * (node:cluster) on loopback. A load of uniquely tagged messages over concurrent connections from
 * several 127.0.0.x addresses, a `kill -9` of the whole process group mid-stream while the next
 * hop is down, then a restart on the same data dir with a sink on the next hop: every
 * acknowledged message arrives exactly once and its trace ends Delivered; nothing arrives twice.
 * Also: files a crash left unflushed, lost or torn as a power cut may leave them, come back from
 * the commit journal; a receive worker killed alone has its journal settled by the queue owner;
 * a truncated spool file is moved aside with a reason and never delivered; a graceful stop
 * (SIGTERM) under load keeps every acknowledged message and leaves no journal segment; with the
 * next hop up, spool files are reused (retired to free/, taken for new messages) and a kill -9
 * mid-stream still delivers every acknowledged message, each with its own bytes.
 * Touches: temp data dirs, loopback sockets on 127.0.0.x, the gateway processes it starts.
 * RFCs: RFC 5321 §4.1.1.4 and §6.1 (responsibility is taken at the 250 after DATA).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SmtpTestClient } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { applyConfig, baseConfig, freePort, removeDir, startGateway, tempDir, type Gateway, nextHopRoute } from '../helpers/gateway.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { getTrace, searchTrace } from '../../src/stores/sqlite/trace-search.ts';
import { QueueStore } from '../../src/queue/index.ts';
import { parseSegment } from '../../src/queue/journal-format.ts';

const FROM = 'printer@example.com';
const TO = 'user@example.com';
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];

interface Setup {
  dir: string;
  ports: { mx: number; submission: number };
  nextHop: number;
}

/** A data dir whose default route points at a next hop where nothing listens yet. */
async function setup(): Promise<Setup> {
  const dir = tempDir('mailgate-durability-');
  const ports = { mx: await freePort(), submission: await freePort() };
  const nextHop = await freePort();
  applyConfig(dir, {
    ...baseConfig(ports),
    routes: [nextHopRoute(nextHop)],
    queue: { retryInitialSeconds: 1, retryMaxSeconds: 2, maxAgeSeconds: 172_800, activeWindow: 100 },
  });
  return { dir, ports, nextHop };
}

function start(s: Setup): Promise<Gateway> {
  return startGateway(s.dir, [s.ports.mx, s.ports.submission], { workers: 2 });
}

function rawMessage(subject: string): string {
  return [
    `From: <${FROM}>`,
    `To: <${TO}>`,
    `Subject: ${subject}`,
    `Message-ID: <${subject}@durability.test>`,
    `Date: ${new Date().toUTCString()}`,
    '',
    `body of ${subject}`,
    '',
  ].join('\r\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, ok: () => boolean, ms: number, log?: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}${log ? `\n--- gateway output (tail) ---\n${log().slice(-4000)}` : ''}`);
    await sleep(100);
  }
}

interface LoadResult {
  /** subject → queue id, for every `250 2.0.0 Ok: queued as ID`. */
  acked: Map<string, string>;
  /** Subjects whose DATA was sent but got no 250 (reset, 4xx): may or may not be delivered. */
  unacked: Set<string>;
  /** End-of-data replies seen (any code). */
  replies: number;
}

interface LoadOptions {
  port: number;
  tag: string;
  total: number;
  connections: number;
  perConnection: number;
  /** Called after every end-of-data reply with the running count. */
  onReply?: (n: number) => void;
  deadlineMs: number;
}

/**
 * Send `total` uniquely tagged messages over `connections` concurrent sessions (each sends up to
 * `perConnection`, then QUIT and reconnects). A session stops at the first refused connection.
 */
async function sendLoad(o: LoadOptions): Promise<LoadResult> {
  const res: LoadResult = { acked: new Map(), unacked: new Set(), replies: 0 };
  const until = Date.now() + o.deadlineMs;
  let next = 0;
  async function session(k: number): Promise<void> {
    let refused = 0;
    while (next < o.total && Date.now() < until && refused < 3) {
      let c: SmtpTestClient;
      try {
        c = await SmtpTestClient.connect({ port: o.port, localAddress: SOURCES[k % SOURCES.length], timeoutMs: 8000 });
      } catch {
        refused++;
        await sleep(50);
        continue;
      }
      refused = 0;
      try {
        if (c.greeting.code !== 220 || (await c.cmd('EHLO load.test')).code !== 250) {
          await c.quit();
          break;
        }
        for (let n = 0; n < o.perConnection && next < o.total && !c.isClosed; n++) {
          const subject = `${o.tag}-${next++}`;
          const r = await c.sendMail(FROM, [TO], rawMessage(subject));
          if (r.eod) {
            res.replies++;
            const m = r.eod.code === 250 ? /^250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)/.exec(r.eod.text) : null;
            if (m) res.acked.set(subject, m[1] as string);
            else res.unacked.add(subject);
            o.onReply?.(res.replies);
          } else if (r.data) {
            res.unacked.add(subject); // 354 never came or DATA refused: nothing stored
          }
          if (!r.eod || r.eod.code !== 250) break;
        }
        await c.quit();
      } catch {
        c.quit().catch(() => undefined);
      }
    }
  }
  await Promise.all(Array.from({ length: o.connections }, (_, k) => session(k)));
  return res;
}

/**
 * 300 tagged messages over 20 sessions, with `kill -9` of the whole gateway once `killAfter`
 * end-of-data replies came back and `ready()` says so; resolves when the load has ended and the
 * gateway is gone.
 */
async function sendLoadKilledAfter(gw: Gateway, port: number, tag: string, killAfter: number, ready: () => boolean = () => true): Promise<LoadResult> {
  let killed: Promise<void> | undefined;
  const load = await sendLoad({
    port,
    tag,
    total: 300,
    connections: 20,
    perConnection: 5,
    deadlineMs: 40_000,
    onReply: (n) => {
      if (n >= killAfter && !killed && ready()) killed = gw.kill9();
    },
  });
  assert.ok(killed, `the gateway was never killed (only ${load.replies} replies)`);
  await killed;
  return load;
}

function subjectOf(raw: string): string {
  return /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '';
}

/** How many times each subject with this tag reached the sink. */
function deliveredCounts(sink: Sink, tag: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of sink.messages) {
    const s = subjectOf(m.raw);
    if (s.startsWith(`${tag}-`)) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}

function spoolFiles(dir: string, sub: 'msg' | 'aside' | 'tmp' | 'journal'): string[] {
  const p = join(dir, 'spool', sub);
  return existsSync(p) ? readdirSync(p) : [];
}

function withDb<T>(dir: string, fn: (db: ReturnType<typeof openDatabase>) => T): T {
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Ids (of `ids`) whose trace row is missing or not yet Delivered. */
function notDeliveredInTrace(dir: string, ids: string[]): string[] {
  return withDb(dir, (db) => ids.filter((id) => getTrace(db, id)?.message.status !== 'Delivered'));
}

/** Every .reason in aside/ belongs to a file there, and every file there has one. */
function assertAsideHasReasons(dir: string): void {
  const aside = spoolFiles(dir, 'aside');
  for (const f of aside.filter((n) => !n.endsWith('.reason'))) {
    assert.ok(aside.includes(`${f}.reason`), `aside/${f} has no .reason file`);
  }
}

/** After a restart with the sink up: wait until every acknowledged message arrived and spool/msg is empty. */
async function waitForAckedDelivered(s: Setup, gw: Gateway, sink: Sink, tag: string, load: LoadResult): Promise<void> {
  const ackedSubjects = [...load.acked.keys()];
  await waitUntil(
    'every acknowledged message at the sink and an empty spool',
    () => {
      const got = deliveredCounts(sink, tag);
      return ackedSubjects.every((x) => got.has(x)) && spoolFiles(s.dir, 'msg').length === 0;
    },
    60_000,
    () => gw.log(),
  );
}

/**
 * After a restart with the sink up: wait until every acknowledged message arrived, the spool is
 * empty and the trace says Delivered, then check nothing arrived twice.
 */
async function assertDeliveredExactlyOnce(s: Setup, gw: Gateway, sink: Sink, tag: string, load: LoadResult): Promise<Map<string, number>> {
  const ackedSubjects = [...load.acked.keys()];
  const ackedIds = [...load.acked.values()];
  await waitForAckedDelivered(s, gw, sink, tag, load);
  await waitUntil('the trace to say Delivered for every acknowledged id', () => notDeliveredInTrace(s.dir, ackedIds).length === 0, 10_000);
  await sleep(1500); // let a duplicate, if any, arrive
  const got = deliveredCounts(sink, tag);
  const dups = [...got].filter(([, n]) => n > 1);
  assert.deepEqual(dups, [], 'no message may be delivered twice (acknowledged or not)');
  const missing = ackedSubjects.filter((x) => !got.has(x));
  assert.deepEqual(missing, [], 'every acknowledged message is delivered');
  for (const subject of got.keys()) {
    assert.ok(load.acked.has(subject) || load.unacked.has(subject), `${subject} was delivered but never sent`);
  }
  withDb(s.dir, (db) => {
    for (const [subject, id] of load.acked) {
      const t = getTrace(db, id);
      assert.ok(t, `no trace row for acknowledged ${id} (${subject})`);
      assert.equal(t.message.status, 'Delivered', `${id}: ${t.message.status}`);
      assert.equal(t.message.subject, subject, `trace row ${id} has the subject it was queued with`);
      assert.ok(t.events.some((e) => e.event === 'DELIVER'), `${id} has a DELIVER event`);
    }
    const store = new QueueStore(db);
    for (const id of ackedIds) assert.equal(store.get(id)?.state, 'done', `queue row ${id}`);
  });
  assert.deepEqual(spoolFiles(s.dir, 'msg'), [], 'no spool file remains for delivered mail');
  assert.deepEqual(spoolFiles(s.dir, 'tmp'), [], 'no temporary file remains');
  assertAsideHasReasons(s.dir);
  return got;
}

/** One scenario: its data dir, tag, gateway and next hop (`gw` and `sink` change as it restarts). */
interface Run {
  s: Setup;
  tag: string;
  gw: Gateway;
  sink?: Sink | undefined;
}

/** Run a scenario against a fresh gateway (next hop down); whatever it started is stopped and its data dir removed. */
async function scenario(tagPrefix: string, fn: (r: Run) => Promise<void>): Promise<void> {
  const s = await setup();
  const r: Run = { s, tag: `${tagPrefix}${Date.now().toString(36)}`, gw: await start(s) };
  try {
    await fn(r);
  } finally {
    await r.gw.stop();
    await r.sink?.close();
    removeDir(s.dir);
  }
}

/** The next hop comes up and the gateway starts again: every acknowledged message arrives exactly once. */
async function restartAndDeliver(r: Run, load: LoadResult): Promise<Map<string, number>> {
  r.sink = await startSink(r.s.nextHop);
  r.gw = await start(r.s);
  return assertDeliveredExactlyOnce(r.s, r.gw, r.sink, r.tag, load);
}

test('kill -9 of a 2-worker gateway mid-stream: every acknowledged message is delivered exactly once', { timeout: 120_000 }, async () => {
  await scenario('k9', async (r) => {
    const { s, tag } = r;
    const t0 = Date.now();
    const load = await sendLoadKilledAfter(r.gw, s.ports.mx, tag, 120);
    const sent = load.acked.size + load.unacked.size;
    console.log(`kill -9 load: ${load.acked.size} acknowledged, ${load.unacked.size} unacknowledged, ${300 - sent} never sent, ${Date.now() - t0} ms`);
    assert.ok(load.acked.size >= 100, `only ${load.acked.size} acknowledged before the kill`);
    assert.ok(load.acked.size < 300, 'the kill came mid-stream');
    // Nothing listened on the next hop, so every acknowledged message must still be on disk.
    const onDisk = new Set(spoolFiles(s.dir, 'msg'));
    const lost = [...load.acked.values()].filter((id) => !onDisk.has(id));
    assert.deepEqual(lost, [], 'acknowledged messages missing from spool/msg after kill -9');

    const t1 = Date.now();
    const got = await restartAndDeliver(r, load);
    console.log(`after restart: ${got.size} delivered (${load.acked.size} acknowledged) in ${Date.now() - t1} ms`);
    withDb(s.dir, (db) => {
      const rows = searchTrace(db, { limit: 1000 }).filter((row) => row.subject?.startsWith(`${tag}-`));
      for (const id of load.acked.values()) assert.ok(rows.some((row) => row.id === id), `searchTrace finds ${id}`);
    });
  });
});

test('a receive worker killed with -9: the queue owner settles its commit journal, a new worker takes over, and what it acknowledged is delivered once', { timeout: 120_000 }, async () => {
  await scenario('kw', async (r) => {
    const { s, tag } = r;
    const primary = r.gw.proc.pid as number;
    const workers = (): number[] =>
      readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    await waitUntil('two receive workers', () => workers().length === 2, 10_000);
    /** Records in each live worker's journal segments (their names start with its pid). */
    const recordsByWorker = (): Map<number, number> => {
      const byPid = new Map(workers().map((pid) => [pid, 0] as [number, number]));
      for (const f of spoolFiles(s.dir, 'journal')) {
        const pid = Number(f.split('.')[0]);
        if (byPid.has(pid)) byPid.set(pid, (byPid.get(pid) ?? 0) + parseSegment(readFileSync(join(s.dir, 'spool', 'journal', f))).length);
      }
      return byPid;
    };
    let victim = 0;
    const load = await sendLoad({
      port: s.ports.mx,
      tag,
      total: 60,
      connections: 6,
      perConnection: 5,
      deadlineMs: 30_000,
      onReply: (n) => {
        if (n >= 30 && victim === 0) {
          // The worker holding the most acknowledged messages in its journal (the kernel may
          // have given the other none).
          victim = [...recordsByWorker()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
          if (victim > 0) process.kill(victim, 'SIGKILL');
        }
      },
    });
    const killed = victim > 0;
    assert.ok(killed, 'the worker was killed');
    // Nothing listens on the next hop: the acknowledged messages wait in msg/, and the dead
    // worker's segments (files it wrote, never flushed by it) are settled by the owner.
    const settledLine = (): string => r.gw.log().split('\n').find((l) => l.includes('commit journal of a stopped receive worker settled') && l.includes(`"worker":${victim}`)) ?? '';
    await waitUntil("the owner to settle the dead worker's journal", () => settledLine() !== '', 15_000, () => r.gw.log().slice(-2000));
    assert.match(settledLine(), /"records":[1-9]/, `the dead worker had acknowledged messages in its journal: ${settledLine()}`);
    assert.deepEqual(spoolFiles(s.dir, 'journal').filter((f) => f.startsWith(`${victim}.`)), [], 'no segment of the dead worker left');
    await waitUntil('a new receive worker', () => workers().length === 2 && !workers().includes(victim), 30_000, () => `children ${workers().join(',')} victim ${victim}\n${r.gw.log().slice(-3000)}`);
    const onDisk = new Set(spoolFiles(s.dir, 'msg'));
    assert.deepEqual([...load.acked.values()].filter((id) => !onDisk.has(id)), [], 'acknowledged messages on disk');
    await r.gw.stop();
    assert.deepEqual(spoolFiles(s.dir, 'journal'), [], 'a graceful stop leaves no segment');

    await restartAndDeliver(r, load);
  });
});

test('kill -9, then every message file the crash left unflushed lost or torn (as a power cut may): the commit journal brings back every acknowledged message, delivered once', { timeout: 120_000 }, async () => {
  await scenario('pc', async (r) => {
    const { s, tag } = r;
    const t0 = Date.now();
    const load = await sendLoadKilledAfter(r.gw, s.ports.mx, tag, 60);
    // A segment is settled (its files flushed) 1 s after it is sealed, at the earliest 5 s after
    // its first record (8 MiB are far away): within 5.5 s, no acknowledged message's file was.
    assert.ok(Date.now() - t0 < 5500, `the load took ${Date.now() - t0} ms`);
    assert.ok(load.acked.size >= 50, `only ${load.acked.size} acknowledged before the kill`);
    const records = spoolFiles(s.dir, 'journal').flatMap((f) => parseSegment(readFileSync(join(s.dir, 'spool', 'journal', f))));
    assert.ok(records.length >= load.acked.size, `the kill left the acknowledged messages in journal segments (${records.length} records)`);
    const msgDir = join(s.dir, 'spool', 'msg');
    spoolFiles(s.dir, 'msg').forEach((f, i) => (i % 2 === 0 ? rmSync(join(msgDir, f)) : truncateSync(join(msgDir, f), 10)));

    await restartAndDeliver(r, load);
    const replayed = r.gw.log().split('\n').find((l) => l.includes('commit journal replayed')) ?? '';
    assert.match(replayed, /"restored":[1-9]/, `the journal restored files: ${replayed}`);
  });
});

test('a truncated spool file is moved aside with a reason and never delivered', { timeout: 60_000 }, async () => {
  await scenario('tr', async (r) => {
    const { s, tag } = r;
    const load = await sendLoad({ port: s.ports.mx, tag, total: 3, connections: 1, perConnection: 3, deadlineMs: 15_000 });
    assert.equal(load.acked.size, 3, 'three messages queued');
    await r.gw.stop();
    // One session at a time: its 250s waited on journal flushes run on the event loop (journal.ts).
    assert.match(r.gw.log(), /"loopFlushes":[1-9]/, 'a receive worker with one session flushed its journal on the loop');
    // The queue owner took the new messages straight into delivery (admission), without a claim.
    assert.match(r.gw.log(), /"scheduler":\{[^}]*"admitted":[1-9]/, 'the queue owner admitted new messages');
    const [victimSubject, victimId] = [...load.acked][0] as [string, string];
    const [, sourceId] = [...load.acked][1] as [string, string];
    const victimPath = join(s.dir, 'spool', 'msg', victimId);
    const whole = readFileSync(victimPath);
    assert.match(whole.toString('latin1'), /#MGEND \d+ \d+\n$/, 'a real committed spool file');
    // 1. A file with a queue row, cut mid-message (as a crash during a copy or a bad disk would).
    writeFileSync(victimPath, whole.subarray(0, Math.floor(whole.length / 2)));
    // 2. A copy of another real file under a new name, cut just before its end line: no row.
    const orphanId = `${sourceId}ORPHAN`;
    const source = readFileSync(join(s.dir, 'spool', 'msg', sourceId));
    writeFileSync(join(s.dir, 'spool', 'msg', orphanId), source.subarray(0, source.length - 5));

    r.sink = await startSink(s.nextHop);
    r.gw = await start(s);
    const good = [...load.acked].slice(1).map(([subject]) => subject);
    await waitUntil('the two intact messages at the sink', () => good.every((x) => deliveredCounts(r.sink as Sink, tag).has(x)), 30_000, () => r.gw.log());
    await waitUntil('an empty spool/msg', () => spoolFiles(s.dir, 'msg').length === 0, 10_000);
    await sleep(1500);
    const got = deliveredCounts(r.sink, tag);
    assert.equal(got.get(victimSubject), undefined, 'the truncated message is never delivered');
    assert.equal(got.size, 2, `only the intact messages arrive: ${[...got.keys()].join(', ')}`);
    assert.ok(!r.sink.messages.some((m) => m.raw.includes(victimSubject)), 'no part of the truncated message left');
    const aside = spoolFiles(s.dir, 'aside');
    for (const id of [victimId, orphanId]) {
      assert.ok(aside.includes(id), `aside/${id} exists (aside: ${aside.join(', ')})`);
      const reason = readFileSync(join(s.dir, 'spool', 'aside', `${id}.reason`), 'utf8');
      assert.match(reason, /end record|#MGEND|sizes add up|does not end in LF/, `aside/${id}.reason: ${reason}`);
    }
    assertAsideHasReasons(s.dir);
    withDb(s.dir, (db) => {
      const row = new QueueStore(db).get(victimId);
      assert.equal(row?.state, 'hold', 'the row of the truncated file is held for an admin');
      assert.match(row?.lastError ?? '', /spool file missing or corrupt/);
      assert.equal(new QueueStore(db).get(orphanId), undefined, 'no row is built from a corrupt file');
    });
  });
});

test('graceful stop (SIGTERM) under load: acknowledged messages survive and are delivered after restart', { timeout: 90_000 }, async () => {
  await scenario('st', async (r) => {
    const { s, tag } = r;
    let stopped: Promise<void> | undefined;
    let stopStarted = 0;
    const first = r.gw;
    const t0 = Date.now();
    const load = await sendLoad({
      port: s.ports.mx,
      tag,
      total: 120,
      connections: 10,
      perConnection: 4,
      deadlineMs: 30_000,
      onReply: (n) => {
        if (n >= 50 && !stopped) {
          stopStarted = Date.now();
          stopped = first.stop();
        }
      },
    });
    assert.ok(stopped, 'the gateway was never stopped');
    await stopped;
    const stopMs = Date.now() - stopStarted;
    console.log(`SIGTERM load: ${load.acked.size} acknowledged, ${load.unacked.size} unacknowledged; stop took ${stopMs} ms, ${Date.now() - t0} ms in all`);
    assert.equal(first.proc.signalCode, null, `the gateway exited by itself, not by SIGKILL\n${first.log().slice(-3000)}`);
    assert.equal(first.proc.exitCode, 0, 'a graceful stop exits 0');
    assert.ok(load.acked.size >= 50, `only ${load.acked.size} acknowledged`);
    const onDisk = new Set(spoolFiles(s.dir, 'msg'));
    assert.deepEqual([...load.acked.values()].filter((id) => !onDisk.has(id)), [], 'acknowledged messages on disk after SIGTERM');
    assert.deepEqual(spoolFiles(s.dir, 'tmp'), [], 'a graceful stop leaves no temporary file');
    assert.deepEqual(spoolFiles(s.dir, 'journal'), [], 'a graceful stop settles every commit journal segment (its files flushed)');
    withDb(s.dir, (db) => {
      for (const id of load.acked.values()) assert.ok(getTrace(db, id), `trace row for ${id} written before exit`);
    });

    await restartAndDeliver(r, load);
  });
});

/** Every `${tag}-N` in a delivered message: its subject, Message-ID and body name one message. */
function foreignTags(raw: string, tag: string): string[] {
  const own = subjectOf(raw);
  return [...raw.matchAll(new RegExp(`${tag}-\\d+`, 'g'))].map((m) => m[0]).filter((t) => t !== own);
}

test('spool files reused while the next hop takes mail; kill -9 mid-stream and restart: every acknowledged message arrives, each with its own bytes', { timeout: 120_000 }, async () => {
  const s = await setup();
  const tag = `ru${Date.now().toString(36)}`;
  const sink = await startSink(s.nextHop);
  let gw: Gateway | undefined;
  try {
    const first = await start(s);
    gw = first;
    // 1. A stream delivered as it arrives, then a graceful stop: the workers wrote into reused files.
    const warm = await sendLoad({ port: s.ports.mx, tag: `${tag}w`, total: 200, connections: 10, perConnection: 5, deadlineMs: 30_000 });
    assert.equal(warm.acked.size, 200, 'the first stream is accepted');
    await waitUntil('the first stream at the sink', () => deliveredCounts(sink, `${tag}w`).size === 200, 30_000, () => first.log());
    await first.stop();
    const reused = [...first.log().matchAll(/"spoolFiles":\{"reused":(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(reused > 0, `receive workers reused spool files (log: ${first.log().slice(-1500)})`);

    // 2. Again, killed mid-stream while files are being retired to free/ and taken from it.
    gw = await start(s);
    // Killed once the next hop has taken some of it too (on a busy machine delivery starts late).
    const load = await sendLoadKilledAfter(gw, s.ports.mx, tag, 150, () => deliveredCounts(sink, tag).size > 0);
    const before = deliveredCounts(sink, tag).size;
    console.log(`reuse + kill -9: ${load.acked.size} acknowledged, ${load.unacked.size} unacknowledged, ${before} delivered before the kill`);
    assert.ok(before > 0, 'the next hop took mail during the stream (files were retired and reused)');

    gw = await start(s);
    await waitForAckedDelivered(s, gw, sink, tag, load);
    await sleep(1000);
    const firstRaw = new Map<string, string>();
    for (const m of sink.messages) {
      const subject = subjectOf(m.raw);
      if (!subject.startsWith(`${tag}-`)) continue;
      assert.ok(load.acked.has(subject) || load.unacked.has(subject), `${subject} was delivered but never sent`);
      assert.deepEqual(foreignTags(m.raw, tag), [], `${subject} arrived with bytes of another message`);
      assert.ok(m.raw.includes(`Message-ID: <${subject}@durability.test>\r\n`) && m.raw.includes(`\r\n\r\nbody of ${subject}\r\n`), `${subject} arrived whole`);
      // A message the next hop took just before the kill, whose outcome was not yet recorded, is
      // sent again (SMTP is at least once): then the very same bytes.
      const first = firstRaw.get(subject);
      if (first === undefined) firstRaw.set(subject, m.raw);
      else assert.equal(m.raw, first, `${subject} sent twice with different bytes`);
    }
    assertAsideHasReasons(s.dir);
  } finally {
    await gw?.stop();
    await sink.close();
    removeDir(s.dir);
  }
});
