/**
 * @module queue/scheduler.test
 * The scheduler with a fake in-process agent: done, deferred with backoff, retry, bounce, null
 * sender, partial delivery, expiry, agent that throws, active window, recover(), and admission
 * (a new row registered straight into delivery while a slot is free, claimed when none is).
 * Passes are driven with runOnce() and a FakeClock; nothing sleeps.
 * Touches: temporary directories and SQLite files.
 * RFCs: RFC 3463 (4.4.7), RFC 3464 (bounce is built by the injected builder).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { newQueueId } from '../core/ids.ts';
import { silentLogger } from '../core/log.ts';
import { openDatabase } from '../core/sqlite.ts';
import type { BounceInfo, DeliveryAgent, DeliveryRequest, RecipientOutcome } from './contract.ts';
import { createAcceptor } from './accept.ts';
import { localRegistrar, type Registration } from './register.ts';
import { Scheduler } from './scheduler.ts';
import { QueueStore } from './store.ts';
import { fakeBounceBuilder, makeFixture, queueMessage, type QueueFixture } from './test-support.ts';

type Script = (rcpt: string, req: DeliveryRequest) => Pick<RecipientOutcome, 'status' | 'code' | 'reply'>;

interface Harness {
  f: QueueFixture;
  sched: Scheduler;
  requests: Array<{ queueId: string; recipients: string[]; attempt: number; body: string }>;
  bounces: BounceInfo[];
  setScript(s: Script): void;
}

async function harness(opts: { activeWindow?: number } = {}): Promise<Harness> {
  const f = await makeFixture();
  let script: Script = () => ({ status: 'delivered', code: 250, reply: 'ok' });
  const requests: Harness['requests'] = [];
  const bounces: BounceInfo[] = [];
  const agent: DeliveryAgent = async (req) => {
    requests.push({ queueId: req.queueId, recipients: [...req.recipients], attempt: req.attempt, body: await text(req.openMessage()) });
    return req.recipients.map((rcpt) => ({ rcpt, ...script(rcpt, req) }));
  };
  const sched = new Scheduler({ ...baseOptions(f, bounces), agent, activeWindow: opts.activeWindow ?? 10 });
  return { f, sched, requests, bounces, setScript: (s) => (script = s) };
}

const SENDER = 'sender@example.org';

test('delivered → done, spool file removed, DELIVER traced, message streamed with prepend headers', async () => {
  const h = await harness();
  try {
    const id = await queueMessage(h.f, 'Subject: t\r\n\r\nbody\r\n', SENDER, ['a@x.test']);
    assert.equal(await h.sched.runOnce(), 1);
    assert.equal(h.f.store.get(id)?.state, 'done');
    assert.equal(existsSync(h.f.spool.msgPath(id)), false);
    assert.equal(h.requests[0]?.body, 'Received: test\r\nSubject: t\r\n\r\nbody\r\n');
    assert.deepEqual(h.f.trace.events.map((e) => [e.event, e.recipient]), [['DELIVER', 'a@x.test']]);
    assert.equal(await h.sched.runOnce(), 0);
  } finally {
    h.f.cleanup();
  }
});

test('4xx → deferred with backoff; not retried early; retry succeeds after the clock advances', async () => {
  const h = await harness();
  try {
    h.setScript(() => ({ status: 'deferred', code: 451, reply: 'try later' }));
    const id = await queueMessage(h.f, 'x', SENDER, ['a@x.test']);
    const t0 = h.f.clock.now();
    await h.sched.runOnce();
    let row = h.f.store.get(id)!;
    assert.equal(row.state, 'deferred');
    assert.equal(row.nextAttempt, t0 + 60_000);
    h.f.clock.advance(60_000);
    await h.sched.runOnce();
    row = h.f.store.get(id)!;
    assert.equal(row.nextAttempt, h.f.clock.now() + 120_000, 'second backoff doubles');
    h.f.clock.advance(119_000);
    assert.equal(await h.sched.runOnce(), 0, 'not due yet');
    h.f.clock.advance(1_000);
    h.setScript(() => ({ status: 'delivered', code: 250, reply: 'ok' }));
    await h.sched.runOnce();
    assert.equal(h.f.store.get(id)?.state, 'done');
    assert.deepEqual(h.requests.map((r) => r.attempt), [1, 2, 3]);
    assert.deepEqual(h.f.trace.events.map((e) => e.event), ['DEFER', 'DEFER', 'DELIVER']);
  } finally {
    h.f.cleanup();
  }
});

test('backoff is capped at retryMaxSeconds', async () => {
  const h = await harness();
  try {
    h.setScript(() => ({ status: 'deferred', code: 421, reply: 'busy' }));
    const id = await queueMessage(h.f, 'x', SENDER, ['a@x.test']);
    for (let i = 0; i < 6; i++) {
      await h.sched.runOnce();
      h.f.clock.set(h.f.store.get(id)!.nextAttempt);
    }
    const row = h.f.store.get(id)!;
    assert.equal(row.attempts, 6);
    assert.equal(row.nextAttempt - row.updatedAt, 600_000);
  } finally {
    h.f.cleanup();
  }
});

test('5xx → bounced, a bounce is queued to the sender with the null sender, DSN traced', async () => {
  const h = await harness();
  try {
    h.setScript(() => ({ status: 'failed', code: 550, reply: 'no such user' }));
    const id = await queueMessage(h.f, 'Subject: lost\r\n\r\nx', SENDER, ['a@x.test']);
    await h.sched.runOnce();
    assert.equal(h.f.store.get(id)?.state, 'bounced');
    assert.equal(existsSync(h.f.spool.msgPath(id)), false);
    assert.equal(h.bounces.length, 1);
    assert.match(h.bounces[0]!.originalHeaders, /Subject: lost/);
    const bounce = h.f.store.list().find((r) => r.id !== id)!;
    assert.equal(bounce.mailFrom, '');
    assert.deepEqual(bounce.meta.envelope.rcptTo, [SENDER]);
    assert.equal(bounce.state, 'incoming');
    assert.ok(existsSync(h.f.spool.msgPath(bounce.id)));
    assert.deepEqual(h.f.trace.events.map((e) => e.event).sort(), ['DSN', 'FAIL']);
    assert.equal(h.f.trace.rows.find((r) => r.id === bounce.id)?.mailFrom, '');
    // The bounce itself fails too: never bounce a bounce.
    await h.sched.runOnce();
    assert.equal(h.f.store.get(bounce.id)?.state, 'bounced');
    assert.equal(h.bounces.length, 1);
    assert.equal(h.f.store.list().length, 2);
  } finally {
    h.f.cleanup();
  }
});

test('null sender: permanent failure bounces the message but queues no DSN', async () => {
  const h = await harness();
  try {
    h.setScript(() => ({ status: 'failed', code: 550, reply: 'no' }));
    const id = await queueMessage(h.f, 'x', '', ['a@x.test']);
    await h.sched.runOnce();
    assert.equal(h.f.store.get(id)?.state, 'bounced');
    assert.equal(h.bounces.length, 0);
    assert.equal(h.f.store.list().length, 1);
  } finally {
    h.f.cleanup();
  }
});

test('partial: one delivered, one deferred; only the deferred one is retried', async () => {
  const h = await harness();
  try {
    h.setScript((rcpt) => (rcpt === 'a@x.test' ? { status: 'delivered', code: 250, reply: 'ok' } : { status: 'deferred', code: 452, reply: 'full' }));
    const id = await queueMessage(h.f, 'x', SENDER, ['a@x.test', 'b@x.test']);
    await h.sched.runOnce();
    assert.equal(h.f.store.get(id)?.state, 'deferred');
    h.f.clock.advance(60_000);
    h.setScript(() => ({ status: 'delivered', code: 250, reply: 'ok' }));
    await h.sched.runOnce();
    assert.deepEqual(h.requests.map((r) => r.recipients), [['a@x.test', 'b@x.test'], ['b@x.test']]);
    assert.equal(h.f.store.get(id)?.state, 'done');
    assert.deepEqual(h.f.store.recipients(id).map((r) => r.status), ['delivered', 'delivered']);
  } finally {
    h.f.cleanup();
  }
});

test('maxAge: deferred recipients of an old message fail with 4.4.7 and are bounced', async () => {
  const h = await harness();
  try {
    h.setScript(() => ({ status: 'deferred', code: 451, reply: 'later' }));
    const id = await queueMessage(h.f, 'x', SENDER, ['a@x.test']);
    await h.sched.runOnce();
    h.f.clock.advance(3600_000);
    await h.sched.runOnce();
    assert.equal(h.f.store.get(id)?.state, 'bounced');
    assert.equal(h.bounces[0]?.failed[0]?.enhanced, '4.4.7');
    assert.match(h.f.store.recipients(id)[0]!.lastReply ?? '', /4\.4\.7 message expired/);
    assert.deepEqual(h.f.trace.events.map((e) => e.event), ['DEFER', 'DSN', 'FAIL']);
  } finally {
    h.f.cleanup();
  }
});

test('an agent that throws defers every recipient', async () => {
  const h = await harness();
  try {
    h.setScript(() => {
      throw new Error('boom');
    });
    const id = await queueMessage(h.f, 'x', SENDER, ['a@x.test', 'b@x.test']);
    await h.sched.runOnce();
    assert.equal(h.f.store.get(id)?.state, 'deferred');
    assert.match(h.f.store.get(id)?.lastError ?? '', /4\.3\.0 delivery agent error: boom/);
  } finally {
    h.f.cleanup();
  }
});

test('active window bounds one pass; flush makes deferred mail due now; hold is never delivered', async () => {
  const h = await harness({ activeWindow: 2 });
  try {
    for (let i = 0; i < 3; i++) await queueMessage(h.f, `m${i}`, SENDER, ['a@x.test']);
    const held = await queueMessage(h.f, 'q', SENDER, ['a@x.test'], 'hold');
    h.setScript(() => ({ status: 'deferred', code: 451, reply: 'later' }));
    assert.equal(await h.sched.runOnce(), 2);
    assert.equal(await h.sched.runOnce(), 1);
    assert.equal(await h.sched.runOnce(), 0);
    assert.equal(h.sched.flush(), 3);
    await h.sched.runOnce();
    assert.equal(h.requests.length, 5);
    assert.equal(h.f.store.get(held)?.state, 'hold');
  } finally {
    await h.sched.stop();
    h.f.cleanup();
  }
});

test('recover: a new database is rebuilt from spool files; active rows reset to incoming', async () => {
  const h = await harness();
  try {
    const a = await queueMessage(h.f, 'a', SENDER, ['a@x.test']);
    const held = await queueMessage(h.f, 'h', SENDER, ['a@x.test'], 'hold');
    // Fresh database, same spool: rows come back from the end records.
    const db2 = openDatabase(`${h.f.dir}/fresh.db`);
    const store2 = new QueueStore(db2);
    const sched2 = new Scheduler({ ...baseOptions(h.f, h.bounces), store: store2 });
    const report = await sched2.recover();
    assert.equal(report.rebuilt, 2);
    assert.equal(store2.get(a)?.state, 'incoming');
    assert.equal(store2.get(held)?.state, 'hold');
    assert.deepEqual(store2.recipients(a).map((r) => r.rcpt), ['a@x.test']);
    // A crash mid-delivery leaves the row active.
    assert.equal(store2.claimDue(h.f.clock.now(), 10).length, 1);
    const again = await sched2.recover();
    assert.equal(again.resetActive, 1);
    assert.equal(store2.get(a)?.state, 'incoming');
    db2.close();
  } finally {
    h.f.cleanup();
  }
});

test('recover: removes files of final rows, tmp leftovers, corrupt files; holds rows without a file', async () => {
  const h = await harness();
  try {
    const done = await queueMessage(h.f, 'd', SENDER, ['a@x.test']);
    const lost = await queueMessage(h.f, 'l', SENDER, ['a@x.test']);
    h.f.store.claimDue(h.f.clock.now(), 10);
    h.f.store.recordOutcomes(done, [{ rcpt: 'a@x.test', status: 'delivered', reply: 'ok' }], h.f.clock.now());
    // Settled first: a file lost while its commit journal segment is still there is written back
    // from it (journal.test.ts), not held.
    await h.f.spool.close();
    await h.f.spool.moveAside(lost, 'test');
    h.f.spool.createWriter('LEFTOVER').write('x');
    await new Promise((r) => setImmediate(r));
    const report = await h.sched.recover();
    assert.equal(report.removedFinal, 1);
    assert.equal(report.missingFiles, 1);
    assert.equal(h.f.store.get(lost)?.state, 'hold');
    assert.deepEqual(readdirSync(h.f.spool.msgDir), []);
    assert.deepEqual(readdirSync(h.f.spool.tmpDir), []);
  } finally {
    h.f.cleanup();
  }
});

test('start/stop: a started scheduler delivers on wake and stop waits for in-flight work', async () => {
  const h = await harness();
  try {
    h.sched.start();
    const id = await queueMessage(h.f, 'x', SENDER, ['a@x.test']);
    h.sched.wake();
    await h.sched.stop();
    assert.equal(h.f.store.get(id)?.state, 'done');
  } finally {
    h.f.cleanup();
  }
});

test('admission: a new row goes straight into delivery while a slot is free (no claim); with the window full it is registered as incoming and claimed when a slot frees', async () => {
  const f = await makeFixture();
  const held: Array<{ id: string; release: () => void }> = [];
  const agent: DeliveryAgent = (req) =>
    new Promise((resolve) => held.push({ id: req.queueId, release: () => resolve(req.recipients.map((rcpt) => ({ rcpt, status: 'delivered', reply: 'ok' }))) }));
  const sched = new Scheduler({ ...baseOptions(f, []), agent, activeWindow: 2, pollMs: 60_000 });
  let claims = 0;
  const claimDue = f.store.claimDue.bind(f.store);
  f.store.claimDue = (now, limit) => {
    claims++;
    return claimDue(now, limit);
  };
  const registrar = localRegistrar(f.store, undefined, () => sched);
  const acceptor = createAcceptor({ spool: f.spool, registrar, clock: f.clock, trace: f.trace, notify: () => sched.wakeForNew() });
  const accept = (n: number): Promise<string> => {
    const w = acceptor.begin(newQueueId(f.clock.now()));
    w.end(Buffer.from(`Subject: ${n}\r\n\r\nbody\r\n`));
    return acceptor.accept(w, { receivedAt: f.clock.now(), envelope: { mailFrom: SENDER, rcptTo: ['a@x.test'] }, prependHeaders: '', facts: {} }, 'deliver');
  };
  const until = async (ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setImmediate(r));
    assert.ok(ok());
  };
  try {
    sched.start(); // its first pass finds the queue empty: admission is open
    assert.equal(claims, 1);
    const a = await accept(1);
    const b = await accept(2);
    await until(() => held.length === 2);
    assert.deepEqual(held.map((x) => x.id), [a, b], 'both delivered at once');
    assert.equal(f.store.get(a)?.state, 'active');
    assert.equal(claims, 1, 'no claim for a row admitted straight into delivery');
    assert.deepEqual(sched.stats, { claims: 1, claimed: 0, admitted: 2 });
    const c = await accept(3); // the window (2) is full
    assert.equal(f.store.get(c)?.state, 'incoming');
    held[0]?.release();
    await until(() => held.length === 3);
    assert.equal(held[2]?.id, c, 'claimed as soon as a slot freed');
    assert.equal(claims, 3, 'one claim after c was registered (the window full: it found no room), one when a slot freed');
    for (const x of held.slice(1)) x.release();
    await until(() => [a, b, c].every((id) => f.store.get(id)?.state === 'done'));
  } finally {
    await sched.stop();
    await f.spool.close();
    f.cleanup();
  }
});

test('admission: a registration that fails gives its slot back; one reserved before a stop and committed after it goes back to incoming and is claimed after the next start', async () => {
  const f = await makeFixture();
  const delivered: string[] = [];
  const agent: DeliveryAgent = async (req) => {
    delivered.push(req.queueId);
    return req.recipients.map((rcpt) => ({ rcpt, status: 'delivered', reply: 'ok' }));
  };
  const sched = new Scheduler({ ...baseOptions(f, []), agent, activeWindow: 2, pollMs: 60_000 });
  const registrar = localRegistrar(
    f.store,
    (_db, r) => {
      if (r.stored.id.endsWith('BAD')) throw new Error('the row hook failed');
    },
    () => sched,
  );
  const registration = (id: string): Registration => ({
    stored: { id, receivedAt: f.clock.now(), envelope: { mailFrom: SENDER, rcptTo: ['a@x.test'] }, size: 1, prependHeaders: '', facts: {}, disposition: 'deliver' },
    disposition: 'deliver',
  });
  const slotsFree = (): number => {
    let n = 0;
    while (sched.reserve()) n++;
    for (let i = 0; i < n; i++) sched.release();
    return n;
  };
  try {
    sched.start();
    assert.equal(slotsFree(), 2);
    await assert.rejects(registrar(registration(`${newQueueId(f.clock.now())}BAD`)), /row hook failed/);
    assert.equal(slotsFree(), 2, 'the failed registration gave its slot back');
    const id = newQueueId(f.clock.now());
    const pending = registrar(registration(id)); // reserves now; commits on the next turn
    await sched.stop();
    await pending;
    assert.equal(f.store.get(id)?.state, 'incoming', 'not left active by a stopped scheduler');
    assert.deepEqual(delivered, []);
    sched.start();
    await sched.stop();
    assert.deepEqual(delivered, [id], 'claimed and delivered after the next start');
  } finally {
    await sched.stop();
    await f.spool.close();
    f.cleanup();
  }
});

function baseOptions(f: QueueFixture, bounces: BounceInfo[]): ConstructorParameters<typeof Scheduler>[0] {
  return {
    store: f.store,
    spool: f.spool,
    agent: async (req) => req.recipients.map((rcpt) => ({ rcpt, status: 'delivered', reply: 'ok' })),
    buildBounce: fakeBounceBuilder(bounces),
    trace: f.trace,
    clock: f.clock,
    logger: silentLogger,
    reportingMta: 'gw.example.test',
    retryInitialSeconds: 60,
    retryMaxSeconds: 600,
    maxAgeSeconds: 3600,
    activeWindow: 10,
  };
}
