/**
 * @module queue/file-pool.test
 * Reused spool files, over a real spool directory and SQLite file: a finished message's file goes
 * to free/ (renamed before retire yields) and the next small message is written into it (same
 * inode, no old bytes left, longer or shorter); a file past the pool's size limit is unlinked;
 * two pools (two receive workers) never get the same file, nor do two workers given names by the
 * owner, and a name that is a path is ignored; a commit that fails after taking one leaves nothing
 * behind; idle free files are trimmed; at start-up a free/ entry that shares its inode with a
 * message file or another free/ entry, has a second link, or is not a plain file goes aside; a
 * file renamed in from free/ is not old enough for the orphan scan whatever its mtime; and a torn
 * overwrite of a reused file (old blocks under a valid end record) is never registered from disk,
 * by recovery or the orphan scan, while a whole one and a file from before the CRC are.
 * Touches: a temporary directory per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { crc32 } from 'node:zlib';
import { newQueueId } from '../core/ids.ts';
import { createLogger } from '../core/log.ts';
import { FilePool } from './file-pool.ts';
import { registerOrphans } from './orphans.ts';
import { recoverQueue } from './recover.ts';
import { localRegistrar } from './register.ts';
import { encodeTrailer, type SpoolMeta } from './spool-format.ts';
import { Spool } from './spool.ts';
import { queueMessage, withQueueFixture, type QueueFixture } from './test-support.ts';

const logger = createLogger('test', 'silent');

const body = (n: number, fill: string): string => `Subject: ${fill}\r\n\r\n${fill.repeat(n)}\r\n`;
const queue = (f: QueueFixture, b: string): Promise<string> => queueMessage(f, b, 'a@example.net', ['u@example.com']);

test('a retired file is reused for the next message: same inode, only the new bytes, shorter or longer', async () => {
  await withQueueFixture(async (f) => {
    const pool = f.spool.pool as FilePool;
    const a = await queue(f, body(3000, 'a'));
    const inode = statSync(f.spool.msgPath(a)).ino;
    await f.spool.retire(a, 3000);
    assert.deepEqual(readdirSync(f.spool.msgDir), []);
    assert.deepEqual(readdirSync(f.spool.freeDir), [a]);

    const shortBody = body(10, 'b');
    const b = await queue(f, shortBody);
    assert.equal(pool.stats.reused, 1);
    assert.equal(statSync(f.spool.msgPath(b)).ino, inode, 'written into the retired file');
    assert.deepEqual(readdirSync(f.spool.freeDir), []);
    const meta = await f.spool.readMeta(b);
    assert.equal(await text(f.spool.openMessage(b, '')), shortBody);
    assert.doesNotMatch(readFileSync(f.spool.msgPath(b), 'latin1'), /aaaa/, 'no byte of the old message is left');
    await f.spool.verifyBody(meta);

    await f.spool.retire(b, meta.size);
    const longBody = body(9000, 'c');
    const c = await queue(f, longBody);
    assert.equal(statSync(f.spool.msgPath(c)).ino, inode);
    assert.equal(await text(f.spool.openMessage(c, '')), longBody);
    await f.spool.verifyBody(await f.spool.readMeta(c));
  });
});

test('retire renames into free/ before it returns to the event loop (no thread-pool hand-off on the owner)', async () => {
  await withQueueFixture(async (f) => {
    const a = await queue(f, body(100, 'a'));
    const pool = f.spool.pool as FilePool;
    const pending = f.spool.retire(a, 100);
    assert.equal(pool.stats.retired, 1, 'counted before the promise is awaited');
    assert.deepEqual(readdirSync(f.spool.freeDir), [a], 'in free/ already');
    assert.deepEqual(readdirSync(f.spool.msgDir), []);
    await pending;
    await f.spool.retire(a, 100); // gone from msg/ by now: a missing file is fine on this path too
    assert.equal(pool.stats.retired, 1);
  });
});

test('a file larger than any reused file is written is unlinked, not pooled; retiring a missing file is fine', async () => {
  await withQueueFixture(async (f) => {
    const spool = new Spool(join(f.dir, 'small'), { spillBytes: 1024 });
    await spool.init();
    const pool = spool.pool as FilePool;
    const w = spool.createWriter(newQueueId());
    w.end(Buffer.from(body(200_000, 'x')));
    const meta = await w.commit({ receivedAt: 1, envelope: { mailFrom: '', rcptTo: ['u@example.com'] }, prependHeaders: '', facts: {}, disposition: 'deliver' });
    await spool.verifyBody(meta); // the CRC of a spilled message, summed as it was written through
    await spool.retire(meta.id, meta.size);
    assert.deepEqual(readdirSync(spool.msgDir), []);
    assert.deepEqual(readdirSync(spool.freeDir), []);
    assert.equal(pool.stats.unlinked, 1);
    await spool.retire(meta.id, meta.size);
  });
});

test('two pools on one free/ directory (two receive workers) never take the same file', async () => {
  await withQueueFixture(async (f) => {
    const free = f.spool.freeDir;
    for (let i = 0; i < 40; i++) writeFileSync(join(free, `f${i}`), `old ${i}`);
    const p1 = new FilePool(free, { maxMessageBytes: 1 << 20, batch: 16 });
    const p2 = new FilePool(free, { maxMessageBytes: 1 << 20, batch: 16 });
    const inodes = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const path = join(f.spool.msgDir, `m${i}`);
      const fd = (i % 2 === 0 ? p1 : p2).take(path);
      if (fd === undefined) continue;
      inodes.add(statSync(path).ino);
    }
    assert.equal(p1.stats.reused + p2.stats.reused, 40);
    assert.equal(inodes.size, 40, 'each reused file went to one message only');
    assert.deepEqual(readdirSync(free), []);
    assert.equal(p1.take(join(f.spool.msgDir, 'late')), undefined, 'an empty pool: the caller creates the file');
  });
});

test('names the owner hands out are taken without reading free/, each by one worker; a stale one costs a look, an unsafe one is ignored', async () => {
  await withQueueFixture(async (f) => {
    const free = f.spool.freeDir;
    const owner = new FilePool(free, { maxMessageBytes: 1 << 20, batch: 16 });
    const w1 = new FilePool(free, { maxMessageBytes: 1 << 20, batch: 16 });
    const w2 = new FilePool(free, { maxMessageBytes: 1 << 20, batch: 16 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = newQueueId();
      writeFileSync(join(f.spool.msgDir, id), `delivered ${i}`);
      await owner.retire(join(f.spool.msgDir, id), id, 20);
      ids.push(id);
    }
    const toW1 = owner.handOut(2);
    const toW2 = owner.handOut(2);
    assert.equal(toW1.length, 2);
    assert.equal(new Set([...toW1, ...toW2]).size, 4, 'no name handed out twice');
    assert.deepEqual(owner.handOut(0), []);
    w1.give(toW1);
    w2.give(toW2);
    for (const [i, w] of [w1, w1, w2, w2].entries()) assert.notEqual(w.take(join(f.spool.msgDir, `m${i}`)), undefined);
    assert.equal(w1.stats.looks + w2.stats.looks, 0, 'free/ was not read');
    assert.equal(w1.stats.reused + w2.stats.reused, 4);
    // A handed-out name taken meanwhile by another reader of free/: one failed rename, then a look.
    w2.give([toW1[0] as string]);
    assert.notEqual(w2.take(join(f.spool.msgDir, 'm4')), undefined);
    assert.equal(w2.stats.looks, 1);
    assert.deepEqual(readdirSync(free), []);
    assert.deepEqual(readdirSync(f.spool.msgDir).filter((n) => ids.includes(n)), []);
    // Names are not paths: one that points out of free/ (at a live message here) is never tried.
    writeFileSync(join(f.spool.msgDir, 'victim'), 'a live message');
    const w3 = new FilePool(free, { maxMessageBytes: 1 << 20, batch: 16 });
    w3.give(['../msg/victim', '', '..', 'a/b']);
    assert.equal(w3.take(join(f.spool.msgDir, 'm5')), undefined);
    assert.equal(readFileSync(join(f.spool.msgDir, 'victim'), 'utf8'), 'a live message');
    assert.equal(w3.stats.looks, 1, 'with no usable name it read free/ (empty)');
  });
});

test('a commit that fails after taking a free file removes it: nothing left in msg/ nor free/', async () => {
  await withQueueFixture(async (f) => {
    const a = await queue(f, body(100, 'a'));
    await f.spool.retire(a, 100);
    // The held message's durable step is the journal's flush: it fails.
    const journal = f.spool.journal;
    assert.ok(journal);
    journal.append = () => Promise.reject(new Error('EIO (test)'));
    await assert.rejects(queue(f, body(10, 'b')), /EIO/);
    assert.equal(f.spool.pool?.stats.reused, 1);
    assert.deepEqual(readdirSync(f.spool.msgDir), []);
    assert.deepEqual(readdirSync(f.spool.freeDir), []);
  });
});

test('trim unlinks free files idle longer than the limit and keeps the others', async () => {
  await withQueueFixture(async (f) => {
    let now = Date.now();
    const pool = new FilePool(f.spool.freeDir, { maxMessageBytes: 1 << 20, now: () => now });
    writeFileSync(join(f.spool.freeDir, 'x'), 'old');
    assert.equal(await pool.trim(60_000), 0);
    assert.deepEqual(readdirSync(f.spool.freeDir), ['x']);
    now += 61_000;
    assert.equal(await pool.trim(60_000), 1);
    assert.deepEqual(readdirSync(f.spool.freeDir), []);
  });
});

test('start-up: a free/ entry sharing an inode with a message file or another free/ entry, with a second link or not a plain file goes aside; the message is untouched', async () => {
  await withQueueFixture(async (f) => {
    const id = await queue(f, body(100, 'm'));
    const before = readFileSync(f.spool.msgPath(id));
    linkSync(f.spool.msgPath(id), join(f.spool.freeDir, 'shared'));
    writeFileSync(join(f.spool.freeDir, 'one'), 'x');
    linkSync(join(f.spool.freeDir, 'one'), join(f.dir, 'elsewhere'));
    writeFileSync(join(f.spool.freeDir, 'twin1'), 'x');
    linkSync(join(f.spool.freeDir, 'twin1'), join(f.spool.freeDir, 'twin2'));
    mkdirSync(join(f.spool.freeDir, 'dir'));
    symlinkSync(f.spool.msgPath(id), join(f.spool.freeDir, 'link'));
    writeFileSync(join(f.spool.freeDir, 'fine'), 'reusable');

    const scan = await f.spool.scan();
    assert.equal(scan.freeAside, 6);
    assert.deepEqual(readdirSync(f.spool.freeDir), ['fine']);
    assert.deepEqual(readFileSync(f.spool.msgPath(id)), before);
    const reasons = readdirSync(f.spool.asideDir)
      .filter((n) => n.endsWith('.reason'))
      .map((n) => readFileSync(join(f.spool.asideDir, n), 'utf8'))
      .join('');
    assert.match(reasons, /inode a spool file also uses/);
    assert.match(reasons, /2 links/);
    assert.match(reasons, /inode another free\/ entry uses/);
    assert.match(reasons, /not a regular file/);
    // What is left in the pool is used (by a worker started after the scan), never the message's inode.
    const worker = new Spool(f.spool.dir);
    const w = worker.createWriter(newQueueId());
    w.end(Buffer.from(body(5, 'n')));
    const next = await w.commit({ receivedAt: 1, envelope: { mailFrom: '', rcptTo: ['u@example.com'] }, prependHeaders: '', facts: {}, disposition: 'deliver' });
    assert.equal(worker.pool?.stats.reused, 1);
    assert.deepEqual(readdirSync(f.spool.freeDir), []);
    assert.notEqual(statSync(f.spool.msgPath(next.id)).ino, statSync(f.spool.msgPath(id)).ino);
  });
});

/**
 * What a crash can leave of a reused file: the end record of the new message (its last block
 * reached the disk) over the old message's first bytes (its first block did not).
 */
function tornFile(spool: Spool, id: string, newBody: Buffer, oldBytes: Buffer): SpoolMeta {
  const meta: SpoolMeta = {
    id,
    receivedAt: 1,
    envelope: { mailFrom: 'a@example.net', rcptTo: ['u@example.com'] },
    size: newBody.length,
    prependHeaders: '',
    facts: {},
    disposition: 'deliver',
    crc32: crc32(newBody),
  };
  const onDisk = Buffer.concat([oldBytes.subarray(0, 4096), newBody.subarray(4096)]);
  writeFileSync(spool.msgPath(id), Buffer.concat([onDisk, encodeTrailer(meta, newBody.length)]));
  return meta;
}

/** One torn reused file (old first block) and one whole file of the same new message, both without a row. */
function tornAndWhole(spool: Spool): { torn: string; whole: string } {
  const newBody = Buffer.from(body(6000, 'n'));
  const torn = newQueueId();
  tornFile(spool, torn, newBody, Buffer.from(body(6000, 'o')));
  const whole = newQueueId();
  tornFile(spool, whole, newBody, newBody);
  return { torn, whole };
}

test('recovery: a torn overwrite of a reused file goes aside; a whole file and one from before the CRC are registered', async () => {
  await withQueueFixture(async (f) => {
    const { torn, whole } = tornAndWhole(f.spool);
    const old = newQueueId();
    const oldMeta: SpoolMeta = { id: old, receivedAt: 1, envelope: { mailFrom: '', rcptTo: ['u@example.com'] }, size: 3, prependHeaders: '', facts: {}, disposition: 'deliver' };
    writeFileSync(f.spool.msgPath(old), Buffer.concat([Buffer.from('abc'), encodeTrailer(oldMeta, 3)]));

    const report = await recoverQueue({ spool: f.spool, store: f.store, clock: f.clock, logger });
    assert.equal(report.rebuilt, 2);
    assert.equal(report.corrupt, 1);
    assert.equal(f.store.get(torn), undefined, 'never registered');
    assert.ok(f.store.get(whole));
    assert.ok(f.store.get(old));
    assert.ok(readdirSync(f.spool.asideDir).includes(torn));
    assert.match(readFileSync(join(f.spool.asideDir, `${torn}.reason`), 'utf8'), /CRC-32/);
  });
});

test('orphan scan: a torn reused file goes aside instead of being registered; a whole one is registered', async () => {
  await withQueueFixture(async (f) => {
    const { torn, whole } = tornAndWhole(f.spool);
    const n = await registerOrphans({ spool: f.spool, store: f.store, register: localRegistrar(f.store), now: () => Date.now() + 600_000, logger });
    assert.equal(n, 1);
    assert.ok(f.store.get(whole));
    assert.equal(f.store.get(torn), undefined);
    assert.ok(readdirSync(f.spool.asideDir).includes(torn));
  });
});

test('orphan scan: a file renamed in from free/ with an old mtime is too young to register (its age is its ctime)', async () => {
  await withQueueFixture(async (f) => {
    const newBody = Buffer.from(body(100, 'n'));
    const id = newQueueId();
    tornFile(f.spool, id, newBody, newBody);
    const old = (Date.now() - 3_600_000) / 1000;
    utimesSync(f.spool.msgPath(id), old, old); // as a reused file looks between take() and its write
    const scan = (): Promise<number> => registerOrphans({ spool: f.spool, store: f.store, register: localRegistrar(f.store), now: Date.now, logger });
    assert.equal(await scan(), 0);
    assert.equal(f.store.get(id), undefined);
  });
});
