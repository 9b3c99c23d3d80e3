/**
 * @module test/helpers/replay
 * Policy replay over a SQLite trace, synchronously, for tests: the grouped fast path or, with
 * `memo: false`, every row on its own (the reference the grouped replays of every store are
 * tested against). The command itself replays through the TraceStore (ops/policy replayTraceFrom).
 * Touches: the trace tables of the given database (read only).
 */
import type { Db } from '../../src/core/sqlite.ts';
import { replayGroups, type ReplyText, type SourceChange } from '../../src/ops/policy-replay.ts';
import type { PolicySnapshot } from '../../src/policy/types.ts';
import { replayFactGroupsSync } from '../../src/stores/sqlite/trace-replay-facts.ts';
import type { Report, ReportWindow } from '../../src/trace/reports/index.ts';

export function replayTrace(
  db: Db,
  window: ReportWindow,
  current: PolicySnapshot,
  candidate: PolicySnapshot,
  samples = 3,
  opts: { memo?: boolean; replyText?: ReplyText } = {},
): Report & { changes: SourceChange[]; replayed: number } {
  // One sample at least: a source's outcome is its earliest row's.
  const groups = replayFactGroupsSync(db, window, { samples: Math.max(1, samples), perRow: opts.memo === false });
  return replayGroups(groups, window, current, candidate, samples, { replyText: opts.replyText });
}
