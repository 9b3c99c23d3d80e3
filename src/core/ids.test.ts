/**
 * @module core/ids.test
 * Queue and connection ids: format, order by time, no repeats within one millisecond.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isQueueId, newConnectionId, newQueueId } from './ids.ts';

test('queue ids: 18 Crockford base32 chars, sort by time, unique within one millisecond', () => {
  const t = 1_700_000_000_000;
  const ids = new Set<string>();
  for (let i = 0; i < 50_000; i++) ids.add(newQueueId(t));
  assert.equal(ids.size, 50_000);
  for (const id of [...ids].slice(0, 100)) assert.ok(isQueueId(id), id);
  assert.ok(newQueueId(t) < newQueueId(t + 1), 'a later millisecond sorts after');
  assert.equal(newQueueId(0).slice(0, 10), '0000000000');
  assert.equal(isQueueId('01M84VEXBSWS410DFI'), false, 'I is not in the alphabet');
});

test('connection ids: C + 10 base32 chars, no repeats in 50,000', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 50_000; i++) ids.add(newConnectionId());
  assert.equal(ids.size, 50_000);
  for (const id of [...ids].slice(0, 100)) assert.match(id, /^C[0-9A-HJKMNP-TV-Z]{10}$/);
});
