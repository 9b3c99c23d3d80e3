/**
 * @module trace/retention.test
 * pruneTrace deletes old messages with their events (in batches) and old orphan events,
 * keeps everything newer than the cutoff.
 * Touches: a temp directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../core/sqlite.ts';
import { pruneTrace, retentionCutoff } from './retention.ts';
import { insertEventsSync, insertMessageSync } from './store.ts';
import { searchTrace } from '../stores/sqlite/trace-search.ts';

test('prune removes old messages, their events and old orphans, in batches', () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'mailgate-trace-')), 'trace.db'));
  db.transaction(() => {
    for (let i = 0; i < 25; i++) {
      const receivedAt = i < 20 ? 100 + i : 1000 + i;
      insertMessageSync(db, { id: `Q${i}`, connectionId: 'C', receivedAt, clientIp: '192.0.2.1', listener: 'mx', recipients: [], status: 'Received' });
      insertEventsSync(db, [
        { messageId: `Q${i}`, at: receivedAt, event: 'RECEIVE' },
        { messageId: `Q${i}`, at: receivedAt + 1, event: 'DELIVER' },
      ]);
    }
    insertEventsSync(db, [
      { messageId: 'gone', at: 50, event: 'DEFER' },
      { messageId: 'gone-new', at: 5000, event: 'DEFER' },
    ]);
  })();
  assert.deepEqual(pruneTrace(db, 500, 7), { messages: 20, events: 41 });
  assert.equal(searchTrace(db, {}).length, 5);
  assert.equal((db.prepare('SELECT count(*) AS n FROM trace_event').get() as { n: number }).n, 11);
  assert.deepEqual(pruneTrace(db, 500), { messages: 0, events: 0 });
  assert.throws(() => pruneTrace(db, Number.NaN), /invalid prune cutoff/);
  db.close();
});

test('retentionCutoff', () => {
  assert.equal(retentionCutoff(90, 100 * 86_400_000), 10 * 86_400_000);
  assert.throws(() => retentionCutoff(0, 0), /invalid retention/);
});
