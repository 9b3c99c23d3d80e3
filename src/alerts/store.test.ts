import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../core/sqlite.ts';
import { AlertStore } from './store.ts';
import type { Candidate } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-alert-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('one open alert per kind and key; an acknowledgement covers what was seen before it', () => {
  const db = openDatabase(join(dir, 'mailgate.db'));
  const s = new AlertStore(db);
  const c = (seenAt?: number): Candidate => ({ kind: 'new-source', key: 'ip:198.51.100.7', summary: 'new', detail: {}, seenAt });
  const a = s.raise(c(100), 1000);
  const b = s.raise(c(100), 2000);
  assert.equal(a?.id, b?.id);
  assert.equal(b?.count, 2);
  assert.deepEqual(s.openByKind(), { 'new-source': 1 });
  assert.equal(s.ack(a?.id ?? 0, 'alice', 3000), true);
  assert.equal(s.ack(a?.id ?? 0, 'alice', 3000), false, 'already acknowledged');
  assert.equal(s.raise(c(100), 4000), undefined, 'the same evidence again');
  const again = s.raise(c(3500), 5000);
  assert.ok(again && again.id !== a?.id, 'new evidence after the ack is a new alert');
  // A state (no seenAt): quiet for quietMs after an acknowledgement.
  const q: Candidate = { kind: 'queue-age', key: 'queue', summary: 'old', detail: {} };
  s.ack(s.raise(q, 6000)?.id ?? 0, 'bob', 6000);
  assert.equal(s.raise(q, 7000, 10_000), undefined);
  assert.ok(s.raise(q, 17_000, 10_000));
  assert.equal(s.get(a?.id ?? 0)?.ackedBy, 'alice');
  db.close();
});
