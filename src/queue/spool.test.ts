/**
 * @module queue/spool.test
 * Spool round trip, end-record validation (truncation at every kind of length), tmp cleanup,
 * group commit through the journal and directory-fsync coalescing without it, abort.
 * Touches: temporary directories.
 * RFCs: none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { newQueueId } from '../core/ids.ts';
import { Spool, type SpoolOptions } from './spool.ts';
import type { SpoolMeta } from './spool-format.ts';

async function withSpool(fn: (spool: Spool, dir: string) => Promise<void>, opts: SpoolOptions = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-spool-'));
  try {
    const spool = new Spool(dir, opts);
    await spool.init();
    try {
      await fn(spool, dir);
    } finally {
      await spool.close().catch(() => undefined);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function metaFor(id: string): Omit<SpoolMeta, 'size'> {
  return {
    id,
    receivedAt: 1000,
    envelope: { mailFrom: 'a@example.org', rcptTo: ['b@example.net', 'c@example.net'] },
    prependHeaders: 'Received: from x\r\n',
    facts: { note: 'line\nbreak "quoted" ünïcode' },
    disposition: 'deliver',
  };
}

async function writeMessage(spool: Spool, body: Buffer | string, id = newQueueId()): Promise<SpoolMeta> {
  const w = spool.createWriter(id);
  await pipeline(Readable.from([Buffer.from(body)]), w);
  return w.commit(metaFor(id));
}

test('round trip: bytes, meta and openMessage (prepend headers + message, no end record)', async () => {
  await withSpool(async (spool) => {
    const body = 'Subject: hi\r\n\r\nbody without final newline';
    const stored = await writeMessage(spool, body);
    assert.equal(stored.size, Buffer.byteLength(body));
    const meta = await spool.readMeta(stored.id);
    assert.deepEqual(meta, stored);
    assert.equal(await text(spool.openMessage(stored.id, 'X-A: 1\r\n')), 'X-A: 1\r\n' + body);
    assert.equal(await spool.readHeaders(stored.id, 'X-A: 1\r\n'), 'X-A: 1\r\nSubject: hi\r\n');
    const file = readFileSync(spool.msgPath(stored.id), 'latin1');
    assert.match(file, /\n#MGMETA \{.*\}\n#MGEND \d+ \d+\n$/);
    assert.deepEqual(readdirSync(spool.tmpDir), []);
  });
});

test('large message written in many chunks, and an empty message', async () => {
  await withSpool(async (spool) => {
    const chunks = Array.from({ length: 200 }, (_, i) => Buffer.alloc(10_000, 65 + (i % 26)));
    const id = newQueueId();
    const w = spool.createWriter(id);
    await pipeline(Readable.from(chunks), w);
    const stored = await w.commit(metaFor(id));
    assert.equal(stored.size, 2_000_000);
    const out = await text(spool.openMessage(id, ''));
    assert.equal(out, Buffer.concat(chunks).toString());
    const empty = await writeMessage(spool, '');
    assert.equal(empty.size, 0);
    assert.equal(await text(spool.openMessage(empty.id, 'H: v\r\n')), 'H: v\r\n');
  });
});

test('a truncated file is corrupt at every cut length and is moved aside with a reason', async () => {
  await withSpool(async (spool) => {
    const stored = await writeMessage(spool, 'Subject: x\r\n\r\nhello\r\n');
    const full = readFileSync(spool.msgPath(stored.id));
    const cuts = new Set<number>();
    for (let n = 0; n < full.length; n += 7) cuts.add(n);
    for (let n = full.length - 45; n < full.length; n++) cuts.add(n); // every cut inside the end record
    const ids: string[] = [];
    for (const cut of cuts) {
      const id = newQueueId();
      writeFileSync(spool.msgPath(id), Buffer.from(full.subarray(0, cut).toString('latin1').replaceAll(stored.id, id), 'latin1'));
      ids.push(id);
    }
    const scan = await spool.scan();
    assert.deepEqual(scan.valid.map((m) => m.id), [stored.id]);
    assert.deepEqual([...scan.corrupt].sort(), [...ids].sort());
    for (const id of ids) {
      assert.equal(existsSync(spool.msgPath(id)), false);
      assert.ok(existsSync(join(spool.asideDir, id)));
      assert.ok(readFileSync(join(spool.asideDir, `${id}.reason`), 'utf8').length > 20);
    }
  });
});

test('sizes must add up exactly: an extra byte or a wrong id is corrupt', async () => {
  await withSpool(async (spool) => {
    const a = await writeMessage(spool, 'one');
    const b = await writeMessage(spool, 'two');
    writeFileSync(spool.msgPath(a.id), Buffer.concat([Buffer.from('X'), readFileSync(spool.msgPath(a.id))]));
    const other = newQueueId();
    writeFileSync(spool.msgPath(other), readFileSync(spool.msgPath(b.id)));
    writeFileSync(join(spool.msgDir, '.hidden'), 'x');
    const scan = await spool.scan();
    assert.deepEqual(scan.valid.map((m) => m.id), [b.id]);
    assert.equal(scan.corrupt.length, 3);
    assert.match(readFileSync(join(spool.asideDir, `${a.id}.reason`), 'utf8'), /sizes add up/);
    assert.match(readFileSync(join(spool.asideDir, `${other}.reason`), 'utf8'), /does not match file name/);
  });
});

test('openMessage: a small message comes as one chunk, headers and bytes (one socket write when relayed)', async () => {
  await withSpool(async (spool) => {
    const body = 'Subject: one\r\n\r\nbody\r\n';
    const stored = await writeMessage(spool, body);
    const chunks: Buffer[] = [];
    for await (const c of spool.openMessage(stored.id, 'X-A: 1\r\n', stored.size)) chunks.push(c as Buffer);
    assert.deepEqual(chunks.map((c) => c.toString('latin1')), ['X-A: 1\r\n' + body]);
    const empty = await writeMessage(spool, '');
    const none: Buffer[] = [];
    for await (const c of spool.openMessage(empty.id, '', 0)) none.push(c as Buffer);
    assert.deepEqual(none, []);
  });
});

test('scan deletes leftovers in tmp/ (earlier versions wrote there first; never acknowledged)', async () => {
  await withSpool(async (spool) => {
    writeFileSync(join(spool.tmpDir, 'stray'), 'x');
    const scan = await spool.scan();
    assert.deepEqual(scan, { valid: [], corrupt: [], freeAside: 0 });
    assert.deepEqual(readdirSync(spool.tmpDir), []);
  });
});

test('a small message stays in memory until commit; a refused one never touches the disk', async () => {
  await withSpool(async (spool) => {
    const id = newQueueId();
    const w = spool.createWriter(id);
    w.write('Subject: small\r\n\r\nbody\r\n');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(existsSync(spool.msgPath(id)), false, 'nothing on disk before commit');
    await w.abort();
    assert.deepEqual(readdirSync(spool.msgDir), []);
  });
});

test('a message past spillBytes is written through as it arrives; a crash before its end record leaves a file scan moves aside', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-spool-'));
  try {
    const spool = new Spool(dir, { spillBytes: 1024 });
    await spool.init();
    const id = newQueueId();
    const w = spool.createWriter(id);
    const chunk = Buffer.alloc(700, 0x61);
    w.write(chunk);
    w.write(chunk);
    // The writes go through libuv's thread pool: wait for them (a busy disk can take a while).
    const size = (): number => (existsSync(spool.msgPath(id)) ? statSync(spool.msgPath(id)).size : -1);
    for (let i = 0; i < 500 && size() !== 1400; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(size(), 1400, 'spilled bytes are on disk before commit');
    // A crash here: the file has no end record. Simulate by scanning a copy of the state.
    const crashed = newQueueId();
    writeFileSync(spool.msgPath(crashed), readFileSync(spool.msgPath(id)));
    const scan = await spool.scan();
    assert.deepEqual(scan.corrupt.sort(), [crashed, id].sort());
    assert.match(readFileSync(join(spool.asideDir, `${crashed}.reason`), 'utf8'), /end record|does not end in LF/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spilled and held messages commit to the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-spool-'));
  try {
    const spool = new Spool(dir, { spillBytes: 100 });
    await spool.init();
    const small = 'Subject: s\r\n\r\nx\r\n';
    const big = 'Subject: b\r\n\r\n' + 'y'.repeat(5000) + '\r\n';
    const a = await writeMessage(spool, small);
    const w = spool.createWriter(newQueueId());
    for (let i = 0; i < big.length; i += 333) w.write(big.slice(i, i + 333));
    const b = await w.commit(metaFor(w.id));
    assert.equal(await text(spool.openMessage(a.id, '')), small);
    assert.equal(await text(spool.openMessage(b.id, '', b.size)), big);
    assert.equal(await text(spool.openMessage(b.id, '')), big);
    assert.deepEqual((await spool.readMeta(b.id)).size, Buffer.byteLength(big));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('abort removes the temp file; commit after abort is refused', async () => {
  await withSpool(async (spool) => {
    const id = newQueueId();
    const w = spool.createWriter(id);
    w.write('data');
    await w.abort();
    assert.deepEqual(readdirSync(spool.tmpDir), []);
    assert.equal(existsSync(spool.msgPath(id)), false);
    await assert.rejects(w.commit(metaFor(id)));
  });
});

test('group commit: 50 concurrent commits of held messages share far fewer journal flushes, no directory fsync; all files present', async () => {
  await withSpool(async (spool) => {
    const journal = spool.journal;
    assert.ok(journal);
    const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => writeMessage(spool, `message ${i}\r\n`)));
    assert.equal(journal.stats.records, 50);
    assert.ok(journal.stats.flushes >= 1 && journal.stats.flushes < 50, `expected coalescing, got ${journal.stats.flushes} flushes`);
    assert.equal(spool.msgDirSync.syncCount, 0, 'no directory fsync on the 250s path');
    const scan = await spool.scan();
    assert.equal(scan.valid.length, 50);
    for (const s of stored) assert.ok(statSync(spool.msgPath(s.id)).size > s.size);
    // Settling flushes the files and msg/, then deletes the segment.
    await spool.close();
    assert.equal(journal.stats.filesFlushed, 50);
    assert.ok(spool.msgDirSync.syncCount >= 1);
    assert.deepEqual(readdirSync(spool.journalDir), []);
  });
});

test('without a journal, directory fsyncs are coalesced: 50 concurrent commits, far fewer fsyncs, all files present', async () => {
  await withSpool(async (spool) => {
    const before = spool.msgDirSync.syncCount;
    const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => writeMessage(spool, `message ${i}\r\n`)));
    const syncs = spool.msgDirSync.syncCount - before;
    assert.ok(syncs >= 1 && syncs < 50, `expected coalescing, got ${syncs} fsyncs`);
    const scan = await spool.scan();
    assert.equal(scan.valid.length, 50);
    for (const s of stored) assert.ok(statSync(spool.msgPath(s.id)).size > s.size);
  }, { journal: false });
});

test('a caller arriving during a running fsync waits for a later one', async () => {
  await withSpool(async (spool) => {
    const ds = spool.msgDirSync;
    const first = ds.sync();
    await new Promise((r) => setTimeout(r, 3)); // let the first fsync start
    const countAtSecond = ds.syncCount;
    const second = ds.sync();
    await Promise.all([first, second]);
    assert.ok(ds.syncCount > countAtSecond || countAtSecond === 0);
  });
});

test('remove and moveAside', async () => {
  await withSpool(async (spool) => {
    const a = await writeMessage(spool, 'a');
    const b = await writeMessage(spool, 'b');
    await spool.remove(a.id);
    await spool.remove(a.id); // missing is fine
    assert.equal(existsSync(spool.msgPath(a.id)), false);
    await spool.moveAside(b.id, 'orphaned for test');
    assert.match(readFileSync(join(spool.asideDir, `${b.id}.reason`), 'utf8'), /orphaned for test/);
    truncateSync(join(spool.asideDir, b.id), 0);
  });
});
