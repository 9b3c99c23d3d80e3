/**
 * @module queue/outcome-journal.test
 * The delivered-outcome journal on its own (records, generations, compaction into the other file
 * when it fills with open records, clear) and with the scheduler: a store that refuses to record
 * what the next hop accepted never makes the message go out again, neither while the process
 * lives (retried in memory) nor after a restart (the journal is applied at recovery).
 * Touches: temporary directories and SQLite files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { silentLogger } from '../core/log.ts';
import type { DeliveryAgent, RecipientOutcome } from './contract.ts';
import { OutcomeJournal, type OutcomeRecord } from './outcome-journal.ts';
import { Scheduler } from './scheduler.ts';
import { fakeBounceBuilder, makeFixture, queueMessage, type QueueFixture } from './test-support.ts';

const rec = (id: string, attempt = 1): OutcomeRecord => ({ id, attempt, at: 1, next: 2, outcomes: [{ rcpt: 'a@x.test', status: 'delivered', code: 250, reply: 'ok' }] });

test('records are read back in order; a file with no open record starts over; clear forgets them all', async () => {
  const f = await makeFixture();
  try {
    const dir = join(f.dir, 'outcomes');
    const j = new OutcomeJournal(dir, silentLogger, 64 * 1024);
    const h1 = j.write(rec('A'));
    j.write(rec('B'));
    j.settle(h1);
    j.close();
    const again = new OutcomeJournal(dir, silentLogger, 64 * 1024);
    assert.deepEqual(again.readAll().map((r) => r.id), ['A', 'B'], 'settled or not, recovery decides');
    again.clear();
    assert.deepEqual(again.readAll(), []);
    again.write(rec('C'));
    assert.deepEqual(again.readAll().map((r) => r.id), ['C'], 'older records behind a new generation are not read');
    again.close();
  } finally {
    f.cleanup();
  }
});

test('a file full of open records is compacted into the other one; nothing open is lost', async () => {
  const f = await makeFixture();
  try {
    const dir = join(f.dir, 'outcomes');
    const j = new OutcomeJournal(dir, silentLogger, 4096);
    const handles = new Map<string, number | undefined>();
    for (let i = 0; i < 60; i++) {
      const id = `M${i}`;
      handles.set(id, j.write(rec(id)));
      // Settle all but every tenth: the open ones must survive each compaction.
      if (i % 10 !== 0) j.settle(handles.get(id));
    }
    assert.ok(j.stats.compactions > 0, 'compacted at least once');
    assert.equal(j.stats.failed, 0);
    j.close();
    const ids = new Set(new OutcomeJournal(dir, silentLogger, 4096).readAll().map((r) => r.id));
    for (const id of ['M0', 'M10', 'M20', 'M30', 'M40', 'M50']) assert.ok(ids.has(id), `${id} kept`);
  } finally {
    f.cleanup();
  }
});

/** A scheduler over `f` whose store refuses to record outcomes while `failing.on` is set. */
function failingScheduler(f: QueueFixture, sent: string[], failing: { on: boolean; calls: number }): Scheduler {
  const record = f.store.recordOutcomes.bind(f.store);
  f.store.recordOutcomes = (id: string, outcomes: RecipientOutcome[], now: number, next?: number) => {
    failing.calls++;
    if (failing.on) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    return record(id, outcomes, now, next);
  };
  const agent: DeliveryAgent = async (req) => {
    sent.push(req.queueId);
    return req.recipients.map((rcpt) => ({ rcpt, status: 'delivered', code: 250, reply: 'ok' }));
  };
  return new Scheduler({
    store: f.store,
    spool: f.spool,
    agent,
    buildBounce: fakeBounceBuilder([]),
    trace: f.trace,
    clock: f.clock,
    logger: silentLogger,
    reportingMta: 'gw.example.test',
    retryInitialSeconds: 60,
    retryMaxSeconds: 600,
    maxAgeSeconds: 86_400,
    activeWindow: 10,
    outcomes: new OutcomeJournal(join(f.dir, 'outcomes'), silentLogger, 64 * 1024),
  });
}

test('a store that cannot record a delivery: retried in memory until it can, never delivered again', async () => {
  const f = await makeFixture();
  const sent: string[] = [];
  const failing = { on: true, calls: 0 };
  const sched = failingScheduler(f, sent, failing);
  try {
    const id = await queueMessage(f, 'Subject: t\r\n\r\nbody\r\n', 'a@example.org', ['a@x.test']);
    const run = sched.runOnce();
    // (A batch entry that throws runs twice: the fast path, then alone in its savepoint.)
    while (sched.unrecorded === 0) await new Promise((r) => setTimeout(r, 50));
    assert.equal(f.store.get(id)?.state, 'active', 'neither deferred nor re-queued while unrecorded');
    failing.on = false;
    await run;
    assert.equal(f.store.get(id)?.state, 'done');
    f.clock.advance(86_400_000);
    await sched.runOnce();
    assert.deepEqual(sent, [id], 'delivered exactly once');
    assert.equal(sched.unrecorded, 1);
    assert.deepEqual(f.trace.events.map((e) => e.event), ['DELIVER']);
  } finally {
    await sched.stop();
    await f.spool.close();
    f.cleanup();
  }
});

test('stopped while the store cannot record a delivery: the next start applies the journal instead of delivering again', async () => {
  const f = await makeFixture();
  const sent: string[] = [];
  const failing = { on: true, calls: 0 };
  const first = failingScheduler(f, sent, failing);
  const id = await queueMessage(f, 'Subject: t\r\n\r\nbody\r\n', 'a@example.org', ['a@x.test']);
  try {
    first.start();
    while (failing.calls < 2) await new Promise((r) => setTimeout(r, 20));
    await first.stop();
    assert.equal(f.store.get(id)?.state, 'active', 'left active, as a crash would');
    // The restart: the store works again; recovery runs before anything is claimed.
    failing.on = false;
    const second = failingScheduler(f, sent, failing);
    const report = await second.recover();
    assert.equal(report.outcomesApplied, 1);
    assert.equal(f.store.get(id)?.state, 'done');
    await second.runOnce();
    assert.deepEqual(sent, [id], 'delivered exactly once');
    assert.deepEqual(f.trace.events.filter((e) => e.event === 'DELIVER').map((e) => e.messageId), [id], 'its DELIVER event traced at recovery');
    await second.stop();
  } finally {
    await f.spool.close();
    f.cleanup();
  }
});
