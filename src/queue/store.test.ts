/**
 * @module queue/store.test
 * QueueStore and accept(): rows, claiming, outcomes, checked state changes, and the acceptor's
 * all-or-nothing registration (row + onCommitted in one transaction, file moved aside on failure).
 * Touches: temporary directories and SQLite files.
 * RFCs: none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newQueueId } from '../core/ids.ts';
import { createAcceptor } from './accept.ts';
import { IllegalTransitionError } from './states.ts';
import { makeFixture, queueMessage } from './test-support.ts';

test('insert, get, recipients, list, countByState, has, delete', async () => {
  const f = await makeFixture();
  try {
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
  } finally {
    f.cleanup();
  }
});

test('claimDue takes due rows only, up to the limit, and setState is checked', async () => {
  const f = await makeFixture();
  try {
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
  } finally {
    f.cleanup();
  }
});

test('recordOutcomes: partial → deferred, then done; failed-only remainder → bounced', async () => {
  const f = await makeFixture();
  try {
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
  } finally {
    f.cleanup();
  }
});

test('accept: onCommitted runs in the same transaction; a failure rolls back and moves the file aside', async () => {
  const f = await makeFixture();
  try {
    f.db.exec('CREATE TABLE side (id TEXT PRIMARY KEY)');
    const meta = { receivedAt: 1, envelope: { mailFrom: 's@e.test', rcptTo: ['r@e.test'] }, prependHeaders: '', facts: {} };
    const okWriter = f.acceptor.begin(newQueueId());
    okWriter.end('hello');
    const okId = await f.acceptor.accept(okWriter, meta, 'deliver', undefined, (db, stored) => {
      db.prepare('INSERT INTO side VALUES (?)').run(stored.id);
    });
    assert.ok(f.store.has(okId));
    assert.equal((f.db.prepare('SELECT COUNT(*) AS n FROM side').get() as { n: number }).n, 1);

    const badId = newQueueId();
    const bad = f.acceptor.begin(badId);
    bad.end('world');
    await assert.rejects(
      f.acceptor.accept(bad, meta, 'deliver', undefined, () => {
        throw new Error('trace insert failed');
      }),
      /trace insert failed/,
    );
    assert.equal(f.store.has(badId), false);
    assert.equal(existsSync(f.spool.msgPath(badId)), false);
    assert.match(readFileSync(join(f.spool.asideDir, `${badId}.reason`), 'utf8'), /queue row insert failed/);
    assert.deepEqual(readdirSync(f.spool.tmpDir), []);
  } finally {
    f.cleanup();
  }
});

test('accept: a failing write rejects and leaves no file; notify is called on success', async () => {
  const f = await makeFixture();
  try {
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
  } finally {
    f.cleanup();
  }
});
