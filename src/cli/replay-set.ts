/**
 * @module cli/replay-set
 * `--set path=value` for `mailgate policy replay`: the parsing lives in ops/replay-set.ts (the API
 * takes the same assignments); here a refused assignment becomes a UsageError (exit 2) with the
 * same message.
 * Touches: nothing (works on a copy of the config).
 */
import type { Config } from '../config/index.ts';
import { OpsError } from '../ops/errors.ts';
import * as sets from '../ops/replay-set.ts';
import { UsageError } from './format.ts';

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OpsError && e.kind === 'invalid') throw new UsageError(e.message);
    throw e;
  }
}

export const parseSetPath = (path: string): (string | number)[] => usage(() => sets.parseSetPath(path));
export const parseSetValue = (raw: string, current: unknown, label: string): unknown => usage(() => sets.parseSetValue(raw, current, label));
export const applySet = (config: Config, assignment: string): Config => usage(() => sets.applySet(config, assignment));
export const applySets = (config: Config, assignments: readonly string[]): Config => usage(() => sets.applySets(config, assignments));
