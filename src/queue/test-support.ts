/**
 * @module queue/test-support
 * Helpers for the queue's unit tests only: a temp spool + SQLite store, a recording trace sink,
 * a fake bounce builder, and a one-call way to queue a message.
 * Touches: a fresh temporary directory per call (spool + database file).
 * RFCs: none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.ts';
import { newQueueId } from '../core/ids.ts';
import { openDatabase, type Db } from '../core/sqlite.ts';
import type { TraceEvent, TraceMessage, TraceSink } from '../trace/events.ts';
import { createAcceptor, type Acceptor } from './accept.ts';
import type { BounceBuilder, BounceInfo, Disposition } from './contract.ts';
import { Spool } from './spool.ts';
import { QueueStore } from './store.ts';

/** A trace sink that remembers everything. */
export class RecordingTrace implements TraceSink {
  rows: TraceMessage[] = [];
  events: TraceEvent[] = [];
  message(row: TraceMessage): void {
    this.rows.push(row);
  }
  event(ev: TraceEvent): void {
    this.events.push(ev);
  }
}

export interface QueueFixture {
  dir: string;
  dbFile: string;
  db: Db;
  spool: Spool;
  store: QueueStore;
  clock: FakeClock;
  trace: RecordingTrace;
  acceptor: Acceptor;
  cleanup(): void;
}

/** A fresh spool directory and SQLite file under the OS temp dir. */
export async function makeFixture(dir = mkdtempSync(join(tmpdir(), 'mailgate-queue-'))): Promise<QueueFixture> {
  const dbFile = join(dir, 'queue.db');
  const db = openDatabase(dbFile);
  const spool = new Spool(join(dir, 'spool'));
  await spool.init();
  const store = new QueueStore(db);
  const clock = new FakeClock(1_700_000_000_000);
  const trace = new RecordingTrace();
  const acceptor = createAcceptor({ spool, store, clock, trace });
  return {
    dir,
    dbFile,
    db,
    spool,
    store,
    clock,
    trace,
    acceptor,
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Run `fn` over a fresh fixture, removed afterwards whatever happens. */
export async function withQueueFixture(fn: (f: QueueFixture) => Promise<void>): Promise<void> {
  const f = await makeFixture();
  try {
    await fn(f);
  } finally {
    // Settle the commit journal (its timers and descriptors) before the directory goes.
    await f.spool.close().catch(() => undefined);
    f.cleanup();
  }
}

/** Queue a message from a string; returns its id. */
export async function queueMessage(
  f: QueueFixture,
  body: string,
  mailFrom: string,
  rcptTo: string[],
  disposition: Disposition = 'deliver',
): Promise<string> {
  const writer = f.acceptor.begin(newQueueId(f.clock.now()));
  writer.end(Buffer.from(body));
  const meta = { receivedAt: f.clock.now(), envelope: { mailFrom, rcptTo }, prependHeaders: 'Received: test\r\n', facts: {} };
  return f.acceptor.accept(writer, meta, disposition);
}

/** A bounce builder that records its calls and writes a tiny message. */
export function fakeBounceBuilder(calls: BounceInfo[]): BounceBuilder {
  return (info) => {
    calls.push(info);
    const list = info.failed.map((o) => `${o.rcpt}: ${o.enhanced ?? ''} ${o.reply}`).join('\r\n');
    return Buffer.from(`From: MAILER-DAEMON@${info.reportingMta}\r\nSubject: bounce ${info.meta.id}\r\n\r\n${list}\r\n`);
  };
}
