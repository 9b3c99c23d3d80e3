/**
 * Release and expiry of quarantined mail (release.ts): a whole release is one conditional write
 * (a second one is refused); a release to one recipient queues one copy under a fixed id, and a
 * crash after the decision and before the copy is finished once by finishReleases, never twice;
 * expiry deletes old quarantined mail only (not rows held for a missing file), for good.
 * Touches: temporary spool and SQLite file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteQueued } from './delete.ts';
import { expireQuarantine, finishReleases, releaseHeld } from './release.ts';
import { UnexpectedStateError } from './store.ts';
import { queueMessage, withQueueFixture, type QueueFixture } from './test-support.ts';

const deps = (f: QueueFixture) => ({ store: f.store, spool: f.spool, acceptor: f.acceptor, now: () => f.clock.now() });

async function quarantined(f: QueueFixture, rcpts: string[]): Promise<string> {
  const id = await queueMessage(f, 'Subject: q\r\n\r\nheld\r\n', 'a@shop.test', rcpts, 'hold');
  const row = f.store.get(id);
  assert.ok(row);
  f.db.prepare('UPDATE queue_message SET meta_json = ? WHERE id = ?').run(JSON.stringify({ ...row.meta, facts: { quarantine: { kind: 'dmarc', text: 'DMARC' } } }), id);
  return id;
}

test('a whole release is one conditional write: the second is refused', async () => {
  await withQueueFixture(async (f) => {
    const id = await quarantined(f, ['u@example.com']);
    const r = await releaseHeld(deps(f), id);
    assert.deepEqual(r, { whole: true, released: [{ rcpt: 'u@example.com', queueId: id }] });
    assert.equal(f.store.get(id)?.state, 'incoming');
    await assert.rejects(releaseHeld(deps(f), id), UnexpectedStateError);
  });
});

test('a release to one recipient: one copy under a fixed id; a crash before the copy is finished once, never twice', async () => {
  await withQueueFixture(async (f) => {
    const id = await quarantined(f, ['a@example.com', 'b@example.com']);
    // The decision committed, then a crash: the copy was never queued.
    assert.ok(f.store.markRecipient(id, 'b@example.com', { status: 'pending', reply: '' }, { status: 'delivered', reply: `releasing as ${id}-R1` }));
    assert.equal(await finishReleases(deps(f)), 1);
    assert.equal(await finishReleases(deps(f)), 0, 'finished once');
    const copy = f.store.get(`${id}-R1`);
    assert.equal(copy?.state, 'incoming');
    assert.deepEqual(copy?.meta.envelope.rcptTo, ['b@example.com']);
    assert.equal(f.store.recipients(id).find((r) => r.rcpt === 'b@example.com')?.lastReply, `released as ${id}-R1`);
    // b is released already; a goes on its own copy, the original stays held for nobody but a.
    await assert.rejects(releaseHeld(deps(f), id, ['b@example.com']), /holds no recipient b@example.com/);
    const whole = await releaseHeld(deps(f), id, ['a@example.com']);
    assert.equal(whole.whole, true, 'a was the last one held: the original itself goes');
    assert.equal(f.store.get(id)?.state, 'incoming');
  });
});

test('expiry deletes quarantined mail past retention, for good; rows held for another reason stay', async () => {
  await withQueueFixture(async (f) => {
    const old = await quarantined(f, ['u@example.com']);
    const other = await queueMessage(f, 'Subject: x\r\n\r\nx\r\n', 'a@shop.test', ['u@example.com'], 'hold');
    f.clock.advance(31 * 86_400_000);
    const fresh = await quarantined(f, ['u@example.com']);
    const gone: string[] = [];
    const n = await expireQuarantine(f.store, f.spool, f.clock.now() - 30 * 86_400_000, (row) => gone.push(row.id));
    assert.equal(n, 1);
    assert.deepEqual(gone, [old]);
    assert.equal(f.store.get(old), undefined);
    assert.equal(f.store.isDeleted(old), true);
    assert.equal(f.store.get(other)?.state, 'hold');
    assert.equal(f.store.get(fresh)?.state, 'hold');
    assert.equal(await deleteQueued(f.store, f.spool, old), false, 'nothing left to delete');
  });
});
