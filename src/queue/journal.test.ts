/**
 * @module queue/journal.test
 * The commit journal (journal.ts, journal-format.ts, journal-replay.ts): its segment format read
 * back whole and never past a torn or foreign record;
 * group flushes (a 250 waits for a flush that began after its append), on the event loop or in the
 * thread pool as the process's receiver says; a failed flush refuses its
 * appends and retires its segment; sealing by size and age; settling (files still in msg/
 * flushed, the segment emptied for reuse, none left after close; a failed settle tried again);
 * and replay after a crash: a message whose file is missing or torn is written back with the
 * acknowledged bytes unless its row is final (never into an inode another name shares), through
 * recoverQueue, so it is registered and delivered; a file with a row whose bytes are torn goes
 * aside instead of out.
 * Touches: temporary directories, a SQLite file.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { createLogger } from '../core/log.ts';
import { DirSync } from './dir-sync.ts';
import { CommitJournal } from './journal.ts';
import { parseSegment, recordHeader, segmentHeader } from './journal-format.ts';
import { replayJournal } from './journal-replay.ts';
import { recoverQueue } from './recover.ts';
import { queueMessage, withQueueFixture } from './test-support.ts';
import { deleteQueued } from './delete.ts';

const GEN = '0123456789abcdef';
/** Above the largest pid_max Linux allows (2^22): no process has it, so its segments are replayed. */
const GONE_PID = 4_194_305;
const rec = (id: string, body: string): Buffer[] => {
  const payload = Buffer.from(body);
  return [recordHeader(GEN, id, [payload]), payload];
};

test('segment format: whole records in order; parsing stops at a torn tail, a bad CRC, another generation or a bad header', () => {
  const whole = Buffer.concat([segmentHeader(GEN), ...rec('A1', 'first message'), ...rec('B2', 'second\r\nmessage'), ...rec('C3', '')]);
  assert.deepEqual(
    parseSegment(whole).map((r) => [r.id, r.payload.toString()]),
    [
      ['A1', 'first message'],
      ['B2', 'second\r\nmessage'],
      ['C3', ''],
    ],
  );
  // Cut anywhere inside the last non-empty record: only the records before it.
  const two = Buffer.concat([segmentHeader(GEN), ...rec('A1', 'first message'), ...rec('B2', 'second')]);
  const firstEnd = Buffer.concat([segmentHeader(GEN), ...rec('A1', 'first message')]).length;
  for (let cut = firstEnd; cut < two.length; cut++) assert.deepEqual(parseSegment(two.subarray(0, cut)).map((r) => r.id), ['A1'], `cut at ${cut}`);
  // A flipped byte in a payload fails its CRC: that record and everything after it are dropped.
  const flipped = Buffer.from(two);
  flipped.writeUInt8((flipped.at(-1) ?? 0) ^ 0x20, flipped.length - 1);
  assert.deepEqual(parseSegment(flipped).map((r) => r.id), ['A1']);
  // A record of an earlier life of the file (another generation) is not this segment's.
  const foreign = Buffer.concat([segmentHeader(GEN), ...rec('A1', 'x'), recordHeader('fedcba9876543210', 'B2', [Buffer.from('y')]), Buffer.from('y')]);
  assert.deepEqual(parseSegment(foreign).map((r) => r.id), ['A1']);
  assert.deepEqual(parseSegment(Buffer.from('#MGJOURNAL 2 0123456789abcdef\n')), []);
  assert.deepEqual(parseSegment(Buffer.alloc(0)), []);
  const badId = Buffer.concat([segmentHeader(GEN), Buffer.from(`#MGJ ${GEN} ../x 1 0\n`), Buffer.from('z')]);
  assert.deepEqual(parseSegment(badId), []);
});

async function withDirs(fn: (d: { journal: string; msg: string; tmp: string; sync: DirSync }) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mailgate-journal-'));
  const d = { journal: join(root, 'journal'), msg: join(root, 'msg'), tmp: join(root, 'tmp'), sync: new DirSync(join(root, 'msg')) };
  mkdirSync(d.msg);
  mkdirSync(d.tmp);
  try {
    await fn(d);
  } finally {
    d.sync.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** A flush the test releases (or fails) by hand: `flushes` lists the ones started, in order. */
function heldSync(): { sync: (fd: number) => Promise<void>; flushes: Array<{ release: () => void; fail: (err: Error) => void }> } {
  const flushes: Array<{ release: () => void; fail: (err: Error) => void }> = [];
  const sync = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      flushes.push({ release: resolve, fail: reject });
    });
  return { sync, flushes };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await tick();
  return done;
};

test('group flush: appends of one turn share a flush; an append made while a flush runs waits for the next one', async () => {
  await withDirs(async (d) => {
    const h = heldSync();
    const j = new CommitJournal(d.journal, d.msg, d.sync, { sync: h.sync });
    const group = Promise.all(Array.from({ length: 20 }, (_, i) => j.append(`M${i}`, [Buffer.from(`message ${i}`)])));
    await tick();
    assert.equal(h.flushes.length, 1, 'one flush for the 20 appends of one turn');
    h.flushes[0]?.release();
    await group;
    const first = j.append('N1', [Buffer.from('one')]);
    await tick();
    assert.equal(h.flushes.length, 2, "N1's flush started");
    const second = j.append('N2', [Buffer.from('two')]); // while N1's flush runs
    h.flushes[1]?.release();
    await first;
    assert.equal(await settled(second), false, "N2 is not acknowledged by N1's flush, which began before it was written");
    assert.equal(h.flushes.length, 3);
    h.flushes[2]?.release();
    await second;
    assert.equal(j.stats.flushes, 3);
    const [name] = readdirSync(d.journal);
    assert.deepEqual(
      parseSegment(readFileSync(join(d.journal, name as string))).map((r) => r.id),
      [...Array.from({ length: 20 }, (_, i) => `M${i}`), 'N1', 'N2'],
    );
    const closing = j.close();
    for (let i = 0; i < 20 && !(await settled(closing)); i++) h.flushes.at(-1)?.release();
    await closing;
    assert.deepEqual(readdirSync(d.journal), []);
  });
});

test('flushOnLoopWhen: a group flush is an fdatasync on the event loop while the predicate says so (one session), in the thread pool otherwise; a failing one on the loop refuses its appends', async () => {
  await withDirs(async (d) => {
    const onLoop: number[] = [];
    let fail = false;
    const real = fs.fdatasyncSync;
    const m = mock.method(fs, 'fdatasyncSync', (fd: number) => {
      onLoop.push(fd);
      if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      real(fd);
    });
    try {
      const j = new CommitJournal(d.journal, d.msg, d.sync);
      let oneSession = true;
      let asked = 0;
      j.flushOnLoopWhen(() => {
        asked++;
        return oneSession;
      });
      await j.append('L1', [Buffer.from('alone')]);
      assert.equal(onLoop.length, 1, 'flushed by fdatasyncSync');
      assert.deepEqual([j.stats.flushes, j.stats.loopFlushes, asked], [1, 1, 1]);
      oneSession = false;
      await Promise.all([j.append('P1', [Buffer.from('busy 1')]), j.append('P2', [Buffer.from('busy 2')])]);
      assert.equal(onLoop.length, 1, 'not on the loop: the thread pool flushed it');
      assert.deepEqual([j.stats.flushes, j.stats.loopFlushes, asked], [2, 1, 2], 'asked once per group flush');
      oneSession = true;
      await j.append('L2', [Buffer.from('alone again')]);
      assert.equal(onLoop.length, 2);
      const [name] = readdirSync(d.journal);
      assert.deepEqual(parseSegment(readFileSync(join(d.journal, name as string))).map((r) => r.id), ['L1', 'P1', 'P2', 'L2']);
      assert.ok(onLoop.every((fd) => fd === onLoop[0]), "the segment's descriptor each time");
      fail = true;
      await assert.rejects(j.append('F1', [Buffer.from('refused')]), /EIO/);
      assert.equal(j.stats.failedFlushes, 1);
      fail = false;
      await j.close();
    } finally {
      m.mock.restore();
    }
  });
});

test('a failed flush refuses its appends and every later one of its segment; the segment is sealed, never reused, and deleted once settled', async () => {
  await withDirs(async (d) => {
    const h = heldSync();
    const errors: string[] = [];
    const j = new CommitJournal(d.journal, d.msg, d.sync, { sync: h.sync, settleDelayMs: 0, onError: (err) => errors.push(String(err)) });
    const a = j.append('A1', [Buffer.from('a')]);
    const b = j.append('B2', [Buffer.from('b')]);
    await tick();
    const late = j.append('L3', [Buffer.from('l')]); // while the flush runs: the next batch, same segment
    h.flushes[0]?.fail(new Error('EIO (test)'));
    await assert.rejects(a, /EIO/);
    await assert.rejects(b, /EIO/);
    // Its own flush could report success for blocks the failed one lost: refused without one.
    await assert.rejects(late, /an earlier flush failed/);
    assert.equal(h.flushes.length, 1);
    assert.equal(j.stats.failedFlushes, 2);
    // The next append goes to a new segment; the failed one is settled and deleted, not kept.
    const c = j.append('C3', [Buffer.from('c')]);
    await tick();
    h.flushes.at(-1)?.release();
    await c;
    for (let i = 0; i < 2000 && j.stats.settled < 1; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(j.stats.settled, 1);
    assert.equal(j.stats.segments, 2);
    assert.equal(readdirSync(d.journal).length, 1, 'the failed segment is gone');
    assert.deepEqual(errors, []);
    const closing = j.close();
    for (let i = 0; i < 20 && !(await settled(closing)); i++) h.flushes.at(-1)?.release();
    await closing;
  });
});

test('a settle that fails is tried again; the segment stays until it succeeds', async () => {
  await withDirs(async (d) => {
    const errors: string[] = [];
    const j = new CommitJournal(d.journal, d.msg, d.sync, { settleDelayMs: 0, retryMs: 20, maxAgeMs: 10, onError: (err) => errors.push(String(err)) });
    writeFileSync(join(d.msg, 'KEPT'), 'kept');
    const realSync = d.sync.sync.bind(d.sync);
    let failures = 2;
    d.sync.sync = () => (failures-- > 0 ? Promise.reject(new Error('EIO (test dir)')) : realSync());
    await j.append('KEPT', [Buffer.from('kept')]);
    for (let i = 0; i < 2000 && j.stats.settled < 1; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(j.stats.failedSettles, 2);
    assert.equal(errors.length, 2);
    assert.equal(j.stats.settled, 1, 'settled on the third try');
    await j.close();
    assert.deepEqual(readdirSync(d.journal), []);
  });
});

test('a full or old segment is sealed and settled: files still in msg/ flushed, gone ones skipped, the segment deleted', async () => {
  await withDirs(async (d) => {
    const j = new CommitJournal(d.journal, d.msg, d.sync, { segmentBytes: 200, settleDelayMs: 0, maxAgeMs: 1000 });
    writeFileSync(join(d.msg, 'KEPT'), 'kept');
    await j.append('KEPT', [Buffer.from('kept')]);
    await j.append('GONE', [Buffer.alloc(200, 'g')]); // past 200 bytes: sealed
    assert.equal(j.stats.segments, 1);
    await j.append('NEXT', [Buffer.from('next')]); // a new segment
    assert.equal(j.stats.segments, 2);
    for (let i = 0; i < 1000 && j.stats.settled < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(j.stats.settled, 2, 'the full segment, then the one older than maxAgeMs');
    assert.equal(j.stats.filesFlushed, 1, 'only KEPT was still in msg/');
    assert.ok(d.sync.syncCount >= 1, 'msg/ fsynced before a segment is emptied');
    // Settled segments are kept for reuse, emptied: a replay finds nothing in them.
    const segments = readdirSync(d.journal);
    assert.equal(segments.length, 2);
    for (const name of segments) assert.deepEqual(parseSegment(readFileSync(join(d.journal, name))), [], name);
    // The next append reuses one: its old records (longer than the new one) are not read back.
    await j.append('AFTER', [Buffer.from('after')]);
    assert.equal(j.stats.reused, 1);
    assert.equal(j.stats.segments, 2, 'no segment created');
    const records = readdirSync(d.journal).flatMap((name) => parseSegment(readFileSync(join(d.journal, name))));
    assert.deepEqual(records.map((r) => [r.id, r.payload.toString()]), [['AFTER', 'after']]);
    await j.close();
    assert.deepEqual(readdirSync(d.journal), [], 'a clean stop deletes every segment');
  });
});

test('a prepared segment is written full of zeros and flushed ahead; the next append lands in it, and another is prepared', async () => {
  await withDirs(async (d) => {
    const size = 64 * 1024;
    const j = new CommitJournal(d.journal, d.msg, d.sync, { segmentBytes: size });
    j.prepare();
    for (let i = 0; i < 2000 && j.stats.prepared < 1; i++) await new Promise((r) => setTimeout(r, 5));
    const [name] = readdirSync(d.journal) as [string];
    const path = join(d.journal, name);
    assert.equal(statSync(path).size, size);
    assert.deepEqual(parseSegment(readFileSync(path)), [], 'zeros are no records');
    await j.append('P1', [Buffer.from('prepared')]);
    assert.equal(j.stats.reused, 1, 'the append took the prepared segment');
    assert.deepEqual(parseSegment(readFileSync(path)).map((r) => r.id), ['P1']);
    assert.equal(statSync(path).size, size, 'into blocks already written: the file did not grow');
    for (let i = 0; i < 2000 && j.stats.prepared < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(j.stats.prepared, 2, 'a spare again once the last free one was taken');
    await j.close();
    assert.deepEqual(readdirSync(d.journal), []);
  });
});

test('replay: a missing or torn file comes back with the acknowledged bytes unless its row is final; whole files are kept; segments deleted', async () => {
  await withDirs(async (d) => {
    mkdirSync(d.journal);
    const seg = Buffer.concat([
      segmentHeader(GEN),
      ...rec('MISSING', 'missing message'),
      ...rec('TORN', 'torn message, whole in the journal'),
      ...rec('WHOLE', 'whole message'),
      ...rec('DONE', 'delivered before the crash'),
    ]);
    // The crash cut the last record (never acknowledged): it is not restored.
    const tail = Buffer.concat(rec('CUT', 'a record whose flush never finished'));
    writeFileSync(join(d.journal, `${GONE_PID}.1.1`), Buffer.concat([seg, tail.subarray(0, tail.length - 5)]));
    writeFileSync(join(d.journal, `${GONE_PID + 1}.1.1`), Buffer.concat([segmentHeader(GEN), ...rec('OTHER', 'another process')]));
    writeFileSync(join(d.msg, 'TORN'), 'torn mess');
    writeFileSync(join(d.msg, 'WHOLE'), 'whole message');
    const report = await replayJournal({ journalDir: d.journal, msgDir: d.msg, tmpDir: d.tmp, msgDirSync: d.sync, isFinal: (id) => id === 'DONE', select: (s) => s.startsWith(`${GONE_PID}.`) });
    assert.deepEqual(report, { segments: 1, skipped: 0, records: 4, restored: 2 });
    assert.equal(readFileSync(join(d.msg, 'MISSING'), 'utf8'), 'missing message');
    assert.equal(readFileSync(join(d.msg, 'TORN'), 'utf8'), 'torn message, whole in the journal');
    assert.equal(readFileSync(join(d.msg, 'WHOLE'), 'utf8'), 'whole message');
    assert.deepEqual(readdirSync(d.msg).sort(), ['MISSING', 'TORN', 'WHOLE']);
    assert.deepEqual(readdirSync(d.journal), [`${GONE_PID + 1}.1.1`], 'a segment not selected is left alone');
  });
});

test("replay leaves alone a recent segment of another process that still runs (a worker outliving its primary), not an old one", async () => {
  await withDirs(async (d) => {
    mkdirSync(d.journal);
    const live = `${process.ppid}.1.1`; // the test runner: alive
    const stale = `${process.ppid}.1.2`;
    writeFileSync(join(d.journal, live), Buffer.concat([segmentHeader(GEN), ...rec('LIVE1', 'still being written')]));
    writeFileSync(join(d.journal, stale), Buffer.concat([segmentHeader(GEN), ...rec('OLD1', 'from before a reboot')]));
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(join(d.journal, stale), old, old);
    const report = await replayJournal({ journalDir: d.journal, msgDir: d.msg, tmpDir: d.tmp, msgDirSync: d.sync, isFinal: () => false });
    assert.deepEqual(report, { segments: 1, skipped: 1, records: 1, restored: 1 });
    assert.deepEqual(readdirSync(d.journal), [live]);
    assert.deepEqual(readdirSync(d.msg), ['OLD1']);
  });
});

test('replay never writes into an inode another name shares: a restored file is a new one, renamed into place', async () => {
  await withDirs(async (d) => {
    mkdirSync(d.journal);
    // After a crash without a journal, msg/DONE (delivered; its final row lost with the WAL) and
    // msg/LIVE (its reused file) can name one inode that holds LIVE's bytes.
    writeFileSync(join(d.msg, 'LIVE'), 'the live message');
    linkSync(join(d.msg, 'LIVE'), join(d.msg, 'DONE'));
    writeFileSync(join(d.journal, `${GONE_PID}.1.1`), Buffer.concat([segmentHeader(GEN), ...rec('LIVE', 'the live message'), ...rec('DONE', 'the delivered one')]));
    const report = await replayJournal({ journalDir: d.journal, msgDir: d.msg, tmpDir: d.tmp, msgDirSync: d.sync, isFinal: () => false });
    assert.equal(report.restored, 1);
    assert.equal(readFileSync(join(d.msg, 'LIVE'), 'utf8'), 'the live message', 'LIVE keeps its bytes');
    assert.equal(readFileSync(join(d.msg, 'DONE'), 'utf8'), 'the delivered one');
    assert.notEqual(statSync(join(d.msg, 'LIVE')).ino, statSync(join(d.msg, 'DONE')).ino);
    assert.deepEqual(readdirSync(d.tmp), []);
  });
});

test('recovery after a crash that lost unflushed files: every acknowledged message is registered and read back whole', async () => {
  await withQueueFixture(async (f) => {
    const body = (n: number): string => `Subject: m${n}\r\n\r\n${'x'.repeat(100 + n)}\r\n`;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await queueMessage(f, body(i), 'a@example.net', ['u@example.com']));
    // The journal is not settled (a crash): what a power cut can do to files never flushed.
    const [lost, torn, rowLost] = ids as [string, string, string, string];
    unlinkSync(f.spool.msgPath(lost));
    truncateSync(f.spool.msgPath(torn), 20);
    unlinkSync(f.spool.msgPath(rowLost));
    // The row lost with the database's unflushed tail (not an admin's delete, which leaves a tombstone).
    f.db.prepare('DELETE FROM queue_rcpt WHERE queue_id = ?').run(rowLost);
    f.db.prepare('DELETE FROM queue_message WHERE id = ?').run(rowLost);
    const report = await recoverQueue({ spool: f.spool, store: f.store, clock: f.clock, logger: createLogger('test', 'silent') });
    assert.equal(report.corrupt, 0);
    assert.equal(report.missingFiles, 0);
    assert.equal(report.rebuilt, 1, 'the message whose row was lost too is registered from its restored file');
    assert.deepEqual(readdirSync(f.spool.journalDir), []);
    for (const [i, id] of ids.entries()) {
      assert.equal(f.store.get(id)?.state, 'incoming', id);
      assert.equal(await text(f.spool.openMessage(id, '')), body(i), id);
    }
  });
});

test('recovery: a file with a row whose bytes no longer match its end record (torn, its journal gone) goes aside and its row is held, never delivered', async () => {
  await withQueueFixture(async (f) => {
    const id = await queueMessage(f, 'Subject: x\r\n\r\nhello world\r\n', 'a@example.net', ['u@example.com']);
    await f.spool.close(); // its segment settled and gone
    // Old blocks under a valid end record: the same size, other bytes.
    const fd = openSync(f.spool.msgPath(id), 'r+');
    writeSync(fd, Buffer.from('Subject: y'), 0, 10, 0);
    closeSync(fd);
    const report = await recoverQueue({ spool: f.spool, store: f.store, clock: f.clock, logger: createLogger('test', 'silent') });
    assert.equal(report.corrupt, 1);
    assert.equal(report.missingFiles, 1);
    assert.equal(f.store.get(id)?.state, 'hold');
    assert.ok(readdirSync(f.spool.asideDir).includes(id));
  });
});

test('a deleted message never comes back: a crash before its journal segment is settled replays nothing for it, and its file left by a crash is removed, not registered', async () => {
  await withQueueFixture(async (f) => {
    const kept = await queueMessage(f, 'Subject: kept\r\n\r\nkeep me\r\n', 'a@example.net', ['u@example.com'], 'hold');
    const gone = await queueMessage(f, 'Subject: gone\r\n\r\ndelete me\r\n', 'a@example.net', ['u@example.com'], 'hold');
    const leftFile = await queueMessage(f, 'Subject: left\r\n\r\ndelete me too\r\n', 'a@example.net', ['u@example.com'], 'hold');
    // An admin deletes two of them while their segment is not settled yet; then the process dies
    // (no close): for `leftFile` the crash comes after the row went and before its file did.
    assert.equal(await deleteQueued(f.store, f.spool, gone), true);
    assert.equal(f.store.delete(leftFile), true);
    assert.ok(fs.existsSync(f.spool.msgPath(leftFile)));
    const report = await recoverQueue({ spool: f.spool, store: f.store, clock: f.clock, logger: createLogger('test', 'silent') });
    assert.equal(report.rebuilt, 0, 'nothing deleted is registered again');
    assert.equal(f.store.get(gone), undefined);
    assert.equal(f.store.get(leftFile), undefined);
    assert.equal(fs.existsSync(f.spool.msgPath(gone)), false);
    assert.equal(fs.existsSync(f.spool.msgPath(leftFile)), false);
    assert.equal(f.store.get(kept)?.state, 'hold');
  });
});
