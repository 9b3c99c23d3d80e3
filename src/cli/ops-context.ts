/**
 * @module cli/ops-context
 * The CLI's bridge to the application layer: the OpsContext of an opened data directory, acting
 * as the login (or sudo) user, and the mapping of an ops/ refusal of bad input (`invalid`) to the
 * CLI's usage error (exit 2) where a flag value was at fault.
 * Touches: nothing.
 */
import type { OpsContext } from '../ops/context.ts';
import { OpsError } from '../ops/errors.ts';
import { actor, fleetNodeOf, traceOf, type CliContext } from './context.ts';
import { UsageError } from './format.ts';

/** The application layer's context for a CLI command, acting as the login user (on a fleet node, with the shared trace; else the SQLite one). */
export function opsOf(ctx: CliContext): OpsContext {
  const who = actor();
  const node = fleetNodeOf(ctx.backing, ctx.db);
  return { db: ctx.db, store: ctx.store, dataDir: ctx.dataDir, actor: who, node, trace: traceOf(ctx.backing, ctx.db, node ?? who), alerts: ctx.backing.alerts };
}

/** The error a command reports for `e`: an OpsError of kind `invalid` (a bad flag value) as a UsageError (exit 2). */
export function usageOf(e: unknown): unknown {
  return e instanceof OpsError && e.kind === 'invalid' ? new UsageError(e.message) : e;
}

/** Run `fn`; an OpsError of kind `invalid` becomes a UsageError (exit 2). */
export async function flagsChecked<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw usageOf(e);
  }
}
