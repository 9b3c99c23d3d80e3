/**
 * @module trace/window.test
 * parseSince: durations, ISO dates and date-times, and clear errors on bad input.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, parseSince } from './window.ts';

const now = Date.UTC(2024, 4, 10, 12, 0, 0);

test('durations count back from now', () => {
  assert.equal(parseSince('2d', now), now - 2 * 86_400_000);
  assert.equal(parseSince('90m', now), now - 90 * 60_000);
  assert.equal(parseSince('1h', now), now - 3_600_000);
  assert.equal(parseSince('7d', now), now - 7 * 86_400_000);
  assert.equal(parseSince(' 2W ', now), now - 14 * 86_400_000);
  assert.equal(parseSince('30s', now), now - 30_000);
  assert.equal(parseDurationMs('1x'), undefined);
});

test('ISO dates and date-times', () => {
  assert.equal(parseSince('2024-05-01', now), Date.UTC(2024, 4, 1));
  assert.equal(parseSince('2024-05-01T12:30:00Z', now), Date.UTC(2024, 4, 1, 12, 30));
  assert.equal(parseSince('2024-05-01T12:30:00.250Z', now), Date.UTC(2024, 4, 1, 12, 30, 0, 250));
  assert.equal(parseSince('2024-05-01T12:30+02:00', now), Date.UTC(2024, 4, 1, 10, 30));
  assert.equal(parseSince('2024-05-01T12:30:00+0200', now), Date.UTC(2024, 4, 1, 10, 30));
  assert.equal(parseSince('2024-02-29', now), Date.UTC(2024, 1, 29));
});

test('bad input throws a clear Error', () => {
  for (const bad of ['', '2', 'd', '-2d', '2 days', '1.5h', 'yesterday', '2024-02-30', '2023-02-29', '2024-13-01', '2024-05-01T25:00Z', '2024/05/01', '1']) {
    assert.throws(() => parseSince(bad, now), (e: unknown) => e instanceof Error && /invalid time window/.test(e.message) && /90m/.test(e.message), bad);
  }
});
