import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../core/sqlite.ts';
import { RowBatcher } from './row-batch.ts';

function db() {
  const d = openDatabase(':memory:');
  d.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
  return d;
}

test('rows registered in the same turn share one transaction', async () => {
  const d = db();
  const b = new RowBatcher(d);
  await Promise.all(['a', 'b', 'c'].map((id) => b.register(() => d.prepare('INSERT INTO t VALUES (?)').run(id))));
  assert.equal(b.commits, 1);
  assert.equal((d.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 3);
});

test('a failing entry is rolled back alone and only its caller is refused', async () => {
  const d = db();
  const b = new RowBatcher(d);
  const ins = (id: string) => () => {
    d.prepare('INSERT INTO t VALUES (?)').run(id);
  };
  const results = await Promise.allSettled([
    b.register(ins('x')),
    b.register(() => {
      d.prepare('INSERT INTO t VALUES (?)').run('y');
      throw new Error('boom');
    }),
    b.register(ins('z')),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual((d.prepare('SELECT id FROM t ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id), ['x', 'z']);
});

test('a failed commit refuses every caller of the batch; the next batch works', async () => {
  const d = db();
  const b = new RowBatcher(d);
  d.close();
  await assert.rejects(b.register(() => undefined));
  const d2 = db();
  const b2 = new RowBatcher(d2, 2);
  await Promise.all([b2.register(() => undefined), b2.register(() => undefined), b2.register(() => undefined)]);
  assert.equal(b2.commits, 2, 'maxBatch bounds a transaction');
});

test('every writer of one connection shares its batcher: their rows of a turn commit together', async () => {
  const d = db();
  const registrations = RowBatcher.for(d);
  const outcomes = RowBatcher.for(d);
  assert.equal(registrations, outcomes);
  assert.notEqual(RowBatcher.for(db()), registrations, 'another connection has its own');
  const ins = (id: string) => () => {
    d.prepare('INSERT INTO t VALUES (?)').run(id);
  };
  await Promise.all([registrations.register(ins('r1')), outcomes.register(ins('o1')), registrations.register(ins('r2'))]);
  assert.equal(registrations.commits, 1);
  assert.equal((d.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 3);
  // An outcome that throws is refused alone: the registrations of its turn still commit.
  const results = await Promise.allSettled([
    registrations.register(ins('r3')),
    outcomes.register(() => {
      ins('o2')();
      throw new Error('outcome failed');
    }),
    registrations.register(ins('r4')),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual((d.prepare('SELECT id FROM t ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id), ['o1', 'r1', 'r2', 'r3', 'r4']);
});
