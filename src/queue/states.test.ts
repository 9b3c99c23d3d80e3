/**
 * @module queue/states.test
 * The transition table: what it allows, what it refuses, and that final states are final.
 * Touches: nothing.
 * RFCs: none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertTransition, canTransition, IllegalTransitionError, isFinal, QUEUE_STATES, type QueueState } from './states.ts';

const allowed: Array<[QueueState, QueueState]> = [
  ['incoming', 'active'],
  ['incoming', 'hold'],
  ['active', 'done'],
  ['active', 'deferred'],
  ['active', 'bounced'],
  ['active', 'incoming'],
  ['deferred', 'active'],
  ['deferred', 'hold'],
  ['deferred', 'incoming'],
  ['hold', 'incoming'],
];

test('exactly the listed transitions are allowed', () => {
  for (const from of QUEUE_STATES) {
    for (const to of QUEUE_STATES) {
      const expected = allowed.some(([f, t]) => f === from && t === to);
      assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
      if (expected) assert.doesNotThrow(() => assertTransition(from, to));
      else assert.throws(() => assertTransition(from, to), IllegalTransitionError);
    }
  }
});

test('done and bounced are final; illegal examples are refused', () => {
  assert.ok(isFinal('done') && isFinal('bounced') && !isFinal('deferred'));
  assert.throws(() => assertTransition('done', 'active'), /done → active/);
  assert.throws(() => assertTransition('hold', 'active'), IllegalTransitionError);
  assert.throws(() => assertTransition('incoming', 'done'), IllegalTransitionError);
  assert.throws(() => assertTransition('active', 'hold'), IllegalTransitionError);
});
