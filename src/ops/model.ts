/**
 * @module ops/model
 * What every configuration edit of the application layer shares: one versioned change under the
 * store's write lock (who from the context, why from the caller), the rule that a configuration
 * receiving no mail needs `force`, and lookups of named items (case-insensitive, as Exchange
 * names are) that fail with an OpsError naming the noun. Validation errors leave as ConfigErrors
 * (`path: reason` lines): the CLI prints them as lines, the API as a 422 problem.
 * Touches: the config store of the context.
 */
import { completenessProblems, type Config } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

/** A change made: the version in force after it (unchanged when it made no difference). */
export interface Changed {
  version: number;
}

/** Apply `mutate` to a copy of the configuration in force and save it as a new version. */
export async function change(ctx: OpsContext, comment: string, mutate: (draft: Config) => void): Promise<Changed> {
  return { version: await ctx.store.update(ctx.actor, comment, mutate) };
}

/** The configuration in force; an OpsError when the store is empty. */
export async function current(ctx: OpsContext): Promise<Config> {
  const cur = await ctx.store.current();
  if (!cur) throw new OpsError('unavailable', 'the store holds no configuration');
  return cur.config;
}

/** Refuse a configuration that would receive no mail (no receive connector or no accepted domain) unless forced. */
export function requireComplete(config: Config, force: boolean | undefined): void {
  const problems = completenessProblems(config);
  if (problems.length === 0 || force) return;
  throw new OpsError('invalid', `refused: ${problems.join('; ')}. Pass --force to save it anyway`);
}

/** Index of the item named `name` (case-insensitive), or -1. */
export function indexOfNamed(items: readonly { name: string }[], name: string): number {
  const k = name.toLowerCase();
  return items.findIndex((it) => it.name.toLowerCase() === k);
}

/** The item named `name`; an OpsError naming the noun when there is none. */
export function requireNamed<T extends { name: string }>(items: readonly T[], name: string, noun: string): T {
  const it = items[indexOfNamed(items, name)];
  if (!it) throw new OpsError('not-found', `no ${noun} named "${name}"`);
  return it;
}

/** Remove the item named `name` from a named list of the model (connectors, routes, users, listeners). */
export function removeNamed(
  ctx: OpsContext,
  name: string,
  o: { noun: string; verb: string; list: (config: Config) => { name: string }[]; complete?: boolean; force?: boolean; comment?: string },
): Promise<Changed> {
  return change(ctx, o.comment ?? `${o.verb} remove ${name}`, (draft) => {
    const items = o.list(draft);
    requireNamed(items, name, o.noun);
    items.splice(indexOfNamed(items, name), 1);
    if (o.complete) requireComplete(draft, o.force);
  });
}
