/**
 * @module queue/orphans.test
 * Background registration (a receive worker's accept) and its safety nets, over a real spool and
 * SQLite file: accept resolves once the file is durable, before its registration; the file
 * carries the trace row and events; a registration that fails leaves the file in msg/ and the
 * orphan scan registers it (queue row, trace row, events), once, and only when it is old enough;
 * a file without an end record is left alone; start-up recovery writes the carried trace row too;
 * in-flight background registrations are bounded.
 * Touches: a temporary directory per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newQueueId } from '../core/ids.ts';
import type { TraceEvent, TraceMessage } from '../trace/events.ts';
import { createAcceptor } from './accept.ts';
import { registerOrphans } from './orphans.ts';
import { recoverQueue } from './recover.ts';
import { localRegistrar, type Registrar, type Registration, type RowHook } from './register.ts';
import { Spool } from './spool.ts';
import { withQueueFixture, type QueueFixture } from './test-support.ts';
import { createLogger } from '../core/log.ts';

const logger = createLogger('test', 'silent');

const row = (id: string): TraceMessage => ({
  id,
  connectionId: 'C1',
  receivedAt: 1,
  clientIp: '192.0.2.7',
  listener: 'mx',
  recipients: ['u@example.com'],
  status: 'Pending',
  size: 5,
});
const events = (id: string): TraceEvent[] => [{ messageId: id, at: 2, event: 'RECEIVE', detail: '1 recipient(s), 5 bytes' }];
const meta = { receivedAt: 1, envelope: { mailFrom: 'a@example.net', rcptTo: ['u@example.com'] }, prependHeaders: 'Received: test\r\n', facts: {} };

/** A registrar whose calls wait until released (or fail, when `fail`). */
function heldRegistrar(fail = false): { register: Registrar; calls: Registration[]; release(): void } {
  const calls: Registration[] = [];
  const waiting: Array<() => void> = [];
  return {
    calls,
    register: (r) => {
      calls.push(r);
      if (fail) return Promise.reject(new Error('owner gone'));
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release: () => waiting.splice(0).forEach((w) => w()),
  };
}

async function acceptOne(f: QueueFixture, register: Registrar, maxBackground?: number): Promise<{ id: string; accepted: Promise<string> }> {
  const acceptor = createAcceptor({ spool: f.spool, registrar: register, clock: f.clock, logger, background: true, maxBackground });
  const id = newQueueId(f.clock.now());
  const w = acceptor.begin(id);
  w.end(Buffer.from('hello'));
  return { id, accepted: acceptor.accept(w, meta, 'deliver', row(id), events(id)) };
}

/** The trace rows and events a RowHook was given (the daemon's hook writes them to the trace tables). */
function recordingHook(): { hook: RowHook; seen: Registration[] } {
  const seen: Registration[] = [];
  return { seen, hook: (_db, r) => void seen.push(r) };
}

test('background accept resolves once the file is durable, before its registration; the file carries the trace row and events', async () => {
  await withQueueFixture(async (f) => {
    const held = heldRegistrar();
    const { id, accepted } = await acceptOne(f, held.register);
    assert.equal(await accepted, id, 'resolved while the registration is still held');
    assert.equal(held.calls.length, 1);
    assert.equal(held.calls[0]?.trace?.id, id);
    assert.equal((held.calls[0]?.stored as { registration?: unknown }).registration, undefined, 'no second copy in the IPC message');
    assert.equal(f.store.get(id), undefined, 'no row yet');
    const stored = await f.spool.readMeta(id);
    assert.equal(stored.registration?.trace?.id, id);
    assert.deepEqual(stored.registration?.events, events(id));
    held.release();
  });
});

test('a failed background registration leaves the file in msg/; the orphan scan registers it once it is old enough, with its trace row', async () => {
  await withQueueFixture(async (f) => {
    const { id, accepted } = await acceptOne(f, heldRegistrar(true).register);
    assert.equal(await accepted, id);
    await new Promise((r) => setImmediate(r));
    assert.ok(await f.spool.exists(id), 'still in msg/, not moved aside');
    const { hook, seen } = recordingHook();
    const register = localRegistrar(f.store, hook);
    assert.equal(await registerOrphans({ spool: f.spool, store: f.store, register, now: Date.now, logger }), 0, 'too young: its registration may be in flight');
    assert.equal(f.store.get(id), undefined);
    const later = () => Date.now() + 301_000;
    assert.equal(await registerOrphans({ spool: f.spool, store: f.store, register, now: later, logger }), 1);
    assert.equal(f.store.get(id)?.state, 'incoming');
    assert.equal(seen[0]?.trace?.id, id);
    assert.equal(seen[0]?.trace?.size, 5);
    assert.deepEqual(seen[0]?.events, events(id));
    const json = (f.db.prepare('SELECT meta_json FROM queue_message WHERE id = ?').get(id) as { meta_json: string }).meta_json;
    assert.doesNotMatch(json, /registration/, 'the queue row does not keep a copy of the trace row');
    assert.equal(await registerOrphans({ spool: f.spool, store: f.store, register, now: later, logger }), 0, 'registered once');
  });
});

test('a file still being written (no end record) is left alone by the orphan scan', async () => {
  await withQueueFixture(async (f) => {
    const spool = new Spool(f.spool.dir, { spillBytes: 16 });
    const id = newQueueId();
    const w = spool.createWriter(id);
    w.write(Buffer.alloc(100, 0x61));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(await spool.exists(id));
    const n = await registerOrphans({ spool, store: f.store, register: localRegistrar(f.store), now: () => Date.now() + 3_600_000, logger });
    assert.equal(n, 0);
    assert.ok(await spool.exists(id), 'not moved aside');
    assert.equal(f.store.get(id), undefined);
    await w.abort();
  });
});

test('start-up recovery rebuilds the row of an unregistered file and writes the trace row it carries', async () => {
  await withQueueFixture(async (f) => {
    const { id, accepted } = await acceptOne(f, heldRegistrar(true).register);
    await accepted;
    const { hook, seen } = recordingHook();
    const report = await recoverQueue({ spool: f.spool, store: f.store, clock: f.clock, logger, rowHook: hook });
    assert.equal(report.rebuilt, 1);
    assert.equal(f.store.get(id)?.state, 'incoming');
    assert.equal(seen[0]?.trace?.id, id);
    assert.deepEqual(seen[0]?.events, events(id));
  });
});

test('start-up recovery still rebuilds the queue row when the trace row cannot be written', async () => {
  await withQueueFixture(async (f) => {
    const { id, accepted } = await acceptOne(f, heldRegistrar(true).register);
    await accepted;
    const failing: RowHook = () => {
      throw new Error('UNIQUE constraint failed: trace_message.id');
    };
    const report = await recoverQueue({ spool: f.spool, store: f.store, clock: f.clock, logger, rowHook: failing });
    assert.equal(report.rebuilt, 1);
    assert.equal(f.store.get(id)?.state, 'incoming');
  });
});

test('past the in-flight bound a failed registration still answers: the durable file is never moved aside', async () => {
  await withQueueFixture(async (f) => {
    const { id, accepted } = await acceptOne(f, heldRegistrar(true).register, 0);
    assert.equal(await accepted, id);
    assert.ok(await f.spool.exists(id), 'in msg/, for the orphan scan');
  });
});

test('background registrations in flight are bounded: past the bound accept waits for its own', async () => {
  await withQueueFixture(async (f) => {
    const held = heldRegistrar();
    const acceptor = createAcceptor({ spool: f.spool, registrar: held.register, clock: f.clock, logger, background: true, maxBackground: 1 });
    const one = async (): Promise<string> => {
      const w = acceptor.begin(newQueueId(f.clock.now()));
      w.end(Buffer.from('hi'));
      return acceptor.accept(w, meta, 'deliver');
    };
    await one(); // in the background
    let second = false;
    const p = one().then(() => (second = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(held.calls.length, 2);
    assert.equal(second, false, 'waits for its registration');
    held.release();
    await p;
    assert.equal(second, true);
  });
});
