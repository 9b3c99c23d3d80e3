/**
 * @module queue/store.test
 * QueueStore and accept(): rows, claiming, outcomes, checked state changes, and the acceptor's
 * all-or-nothing registration (row + onCommitted in one transaction, file moved aside on failure).
 * Touches: temporary directories and SQLite files.
 * RFCs: none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newQueueId } from '../core/ids.ts';
import { createAcceptor } from './accept.ts';
import { localRegistrar } from './register.ts';
import { pruneFinalRows } from './prune.ts';
import { IllegalTransitionError } from './states.ts';
import { formatOutcome, UnexpectedStateError } from './store.ts';
import { queueMessage, withQueueFixture } from './test-support.ts';

test('insert, get, recipients, list, countByState, has, delete', async () => {
  await withQueueFixture(async (f) => {
    const id = await queueMessage(f, 'Subject: a\r\n\r\nx', 's@example.org', ['a@x.test', 'b@x.test']);
    const held = await queueMessage(f, 'Subject: b\r\n\r\ny', 's@example.org', ['a@x.test'], 'hold');
    const row = f.store.get(id);
    assert.equal(row?.state, 'incoming');
    assert.equal(row?.mailFrom, 's@example.org');
    assert.equal(row?.meta.disposition, 'deliver');
    assert.equal(f.store.get(held)?.state, 'hold');
    assert.deepEqual(f.store.recipients(id).map((r) => [r.rcpt, r.status]), [['a@x.test', 'pending'], ['b@x.test', 'pending']]);
    assert.equal(f.store.list().length, 2);
    assert.deepEqual(f.store.list({ state: 'hold' }).map((r) => r.id), [held]);
    assert.equal(f.store.countByState().incoming, 1);
    assert.equal(f.store.countByState().done, 0);
    assert.ok(f.store.has(id));
    assert.ok(f.store.delete(id));
    assert.equal(f.store.has(id), false);
    assert.deepEqual(f.store.recipients(id), []);
  });
});

test('claimDue takes due rows only, up to the limit, and setState is checked', async () => {
  await withQueueFixture(async (f) => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await queueMessage(f, `m${i}`, 's@e.test', ['r@e.test']));
    await queueMessage(f, 'held', 's@e.test', ['r@e.test'], 'hold');
    const now = f.clock.now();
    assert.equal(f.store.claimDue(now - 1, 10).length, 0);
    const claimed = f.store.claimDue(now, 2);
    assert.equal(claimed.length, 2);
    assert.ok(claimed.every((r) => r.state === 'active'));
    assert.equal(f.store.claimDue(now, 10).length, 1); // hold is never claimed
    assert.throws(() => f.store.setState(ids[0]!, 'hold'), IllegalTransitionError);
    assert.equal(f.store.recoverActive(now), 3);
    assert.equal(f.store.countByState().incoming, 3);
  });
});

test('setState with `from` refuses a row in another state and changes nothing (an admin release of a row mid-attempt)', async () => {
  await withQueueFixture(async (f) => {
    const id = await queueMessage(f, 'm', 's@e.test', ['r@e.test']);
    assert.equal(f.store.claimDue(f.clock.now(), 10).length, 1); // active: an attempt in flight
    // active → incoming is a legal transition (crash recovery), so only `from` stops it.
    assert.throws(() => f.store.setState(id, 'incoming', { from: ['hold'] }), (e: unknown) => e instanceof UnexpectedStateError && e.state === 'active' && e.id === id);
    assert.equal(f.store.get(id)?.state, 'active');
    f.store.setState(id, 'deferred', { from: ['active'] });
    assert.equal(f.store.get(id)?.state, 'deferred');
  });
});

test('claimDue merges incoming and deferred rows in next_attempt order, whatever the backlog', async () => {
  await withQueueFixture(async (f) => {
    const now = f.clock.now();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await queueMessage(f, `m${i}`, 's@e.test', ['r@e.test']));
    // Two of them become deferred, due before the incoming ones.
    f.store.claimDue(now, 2);
    f.store.recordOutcomes(ids[0]!, [{ rcpt: 'r@e.test', status: 'deferred', reply: 'later' }], now, now - 20);
    f.store.recordOutcomes(ids[1]!, [{ rcpt: 'r@e.test', status: 'deferred', reply: 'later' }], now, now - 10);
    const got = f.store.claimDue(now, 3);
    assert.deepEqual(
      got.map((r) => r.id),
      [ids[0], ids[1], ids[2]],
    );
  });
});

test('pruneFinalRows removes done and bounced rows older than the cutoff, page by page, once their file is gone', async () => {
  await withQueueFixture(async (f) => {
    const now = f.clock.now();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await queueMessage(f, `m${i}`, 's@e.test', ['r@e.test', 'q@e.test']));
    f.store.claimDue(now, 10);
    const both = (status: 'delivered' | 'failed') => [
      { rcpt: 'r@e.test', status, reply: 'x' },
      { rcpt: 'q@e.test', status, reply: 'x' },
    ];
    for (const id of ids.slice(0, 4)) f.store.recordOutcomes(id, both('delivered'), now - 5000);
    f.store.recordOutcomes(ids[4]!, both('failed'), now - 5000);
    f.store.recordOutcomes(ids[5]!, [{ rcpt: 'r@e.test', status: 'deferred', reply: 'later' }], now - 5000, now);
    // ids 1..4 had their files removed after the final attempt; id 0's unlink "failed" (file still
    // there: prune retries it); id 3's path cannot be unlinked at all (a directory): its row stays.
    for (const id of ids.slice(1, 5)) await f.spool.remove(id);
    mkdirSync(f.spool.msgPath(ids[3]!));
    assert.equal(await pruneFinalRows(f.store, f.spool, now - 6000), 0, 'nothing older than the cutoff');
    assert.equal(await pruneFinalRows(f.store, f.spool, now, 2), 4, 'three done + one bounced, two rows a page');
    assert.equal(existsSync(f.spool.msgPath(ids[0]!)), false, 'the leftover file of a final row is removed first');
    assert.deepEqual(f.store.openIds(), [ids[5]]);
    assert.equal(f.store.get(ids[3]!)?.state, 'done', 'a final row whose file cannot be removed stays');
    assert.equal(f.store.get(ids[0]!), undefined);
    const rcpts = f.db.prepare('SELECT COUNT(*) AS n FROM queue_rcpt').get() as { n: number };
    assert.equal(rcpts.n, 4, 'recipients went with their rows');
  });
});

test('recordOutcomes: partial → deferred, then done; failed-only remainder → bounced', async () => {
  await withQueueFixture(async (f) => {
    const now = f.clock.now();
    const id = await queueMessage(f, 'x', 's@e.test', ['a@e.test', 'b@e.test']);
    f.store.claimDue(now, 10);
    const st = f.store.recordOutcomes(id, [
      { rcpt: 'a@e.test', status: 'delivered', code: 250, reply: 'ok' },
      { rcpt: 'b@e.test', status: 'deferred', code: 451, enhanced: '4.4.1', reply: 'later' },
    ], now, now + 5000);
    assert.equal(st, 'deferred');
    const row = f.store.get(id)!;
    assert.equal(row.attempts, 1);
    assert.equal(row.nextAttempt, now + 5000);
    assert.equal(row.lastError, '451 4.4.1 later');
    f.store.claimDue(now + 5000, 10);
    assert.equal(f.store.recordOutcomes(id, [{ rcpt: 'b@e.test', status: 'failed', code: 550, reply: 'no' }], now), 'bounced');
    assert.throws(() => f.store.setState(id, 'incoming'), IllegalTransitionError);
  });
});

test('accept: the registrar\'s row hook runs in the same transaction; a failure rolls back and moves the file aside', async () => {
  await withQueueFixture(async (f) => {
    f.db.exec('CREATE TABLE side (id TEXT PRIMARY KEY, subject TEXT)');
    let fail = false;
    const registrar = localRegistrar(f.store, (db, r) => {
      if (fail) throw new Error('trace insert failed');
      db.prepare('INSERT INTO side VALUES (?, ?)').run(r.stored.id, r.trace?.subject ?? null);
    });
    const acc = createAcceptor({ spool: f.spool, clock: f.clock, registrar });
    const meta = { receivedAt: 1, envelope: { mailFrom: 's@e.test', rcptTo: ['r@e.test'] }, prependHeaders: '', facts: {} };
    const okWriter = acc.begin(newQueueId());
    okWriter.end('hello');
    const row = { id: '', connectionId: 'c1', receivedAt: 1, clientIp: '127.0.0.1', listener: 'mx', mailFrom: 's@e.test', recipients: ['r@e.test'], subject: 'hi', status: 'Pending' as const, source: 'gateway' as const };
    const okId = await acc.accept(okWriter, meta, 'deliver', row);
    assert.ok(f.store.has(okId));
    assert.deepEqual(f.db.prepare('SELECT id, subject FROM side').all(), [{ id: okId, subject: 'hi' }]);

    fail = true;
    const badId = newQueueId();
    const bad = acc.begin(badId);
    bad.end('world');
    await assert.rejects(acc.accept(bad, meta, 'deliver', row), /trace insert failed/);
    assert.equal(f.store.has(badId), false);
    assert.equal(existsSync(f.spool.msgPath(badId)), false);
    assert.match(readFileSync(join(f.spool.asideDir, `${badId}.reason`), 'utf8'), /queue row insert failed/);
    assert.deepEqual(readdirSync(f.spool.tmpDir), []);
  });
});

test('accept: a failing write rejects and leaves no file; notify is called on success', async () => {
  await withQueueFixture(async (f) => {
    const id = newQueueId();
    const w = f.acceptor.begin(id);
    w.on('error', () => undefined);
    w.destroy(new Error('client went away'));
    const meta = { receivedAt: 1, envelope: { mailFrom: '', rcptTo: ['r@e.test'] }, prependHeaders: '', facts: {} };
    await assert.rejects(f.acceptor.accept(w, meta, 'deliver'));
    assert.deepEqual(readdirSync(f.spool.tmpDir), []);
    assert.deepEqual(readdirSync(f.spool.msgDir), []);
    assert.equal(f.store.has(id), false);
    let notified = 0;
    const acc = createAcceptor({ spool: f.spool, store: f.store, clock: f.clock, notify: () => notified++ });
    const ok = acc.begin(newQueueId());
    ok.end('fine');
    await acc.accept(ok, meta, 'deliver');
    assert.equal(notified, 1);
  });
});

test('formatOutcome: a next hop reply line keeps its own code once; our own texts get code and enhanced code', () => {
  const hop = { rcpt: 'a@example.com', status: 'delivered' as const, nextHop: 'smtp:127.0.0.1:25' };
  assert.equal(formatOutcome({ ...hop, code: 250, reply: '250 OK: message queued' }), '250 OK: message queued');
  assert.equal(formatOutcome({ ...hop, status: 'failed', code: 554, enhanced: '5.6.0', reply: '554 5.6.0 content rejected' }), '554 5.6.0 content rejected');
  assert.equal(formatOutcome({ ...hop, status: 'deferred', code: 451, reply: '451-first line' }), '451-first line');
  assert.equal(formatOutcome({ ...hop, status: 'deferred', enhanced: '4.4.1', reply: 'connection failed: ECONNREFUSED' }), '4.4.1 connection failed: ECONNREFUSED');
  assert.equal(formatOutcome({ ...hop, status: 'failed', code: 550, enhanced: '5.1.1', reply: '2500 is not a code' }), '550 5.1.1 2500 is not a code');
});
