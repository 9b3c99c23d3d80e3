/**
 * @module ops/config
 * The whole configuration as YAML and its versions: show (in force, an older version, only the
 * non-defaults, or the defaults), validate, apply (all or nothing; warnings returned, not
 * fatal; a configuration receiving no mail needs `force`), export, history (who, when, why, what
 * changed), diff of two versions and rollback (a new version equal to an older one). Every secret
 * leaves masked; an applied file carrying masked secrets keeps the stored ones (those in force
 * under the store's write lock).
 * Touches: the config store of the context.
 */
import {
  changedSettings,
  completenessProblems,
  configToYaml,
  configWarnings,
  defaultConfig,
  keepMaskedSecrets,
  lineDiff,
  maskedYaml,
  maskSecrets,
  parseConfigText,
  summarizeChange,
  type Config,
  type ConfigStore,
  type ConfigVersion,
} from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { requireComplete, type Changed } from './model.ts';

/** A configuration version as shown: secrets masked. */
export interface ShownConfig {
  version: number;
  createdAt: number;
  actor: string;
  comment: string;
  /** The masked configuration, or only its non-default settings with `changed`. */
  config: Config | Record<string, unknown>;
}

/** What validating a YAML text found (errors throw ConfigErrors instead). */
export interface Validated {
  config: Config;
  summary: string;
  /** `SOURCE: path: warning: …` lines (config/warnings). */
  warnings: string[];
  /** Why it would receive no mail (apply needs force). */
  incomplete: string[];
}

/** One history row. */
export interface HistoryEntry {
  version: number;
  createdAt: number;
  actor: string;
  comment: string;
  changes: string;
}

function summary(c: Config): string {
  return [
    `${c.acceptedDomains.length} accepted domains`,
    `${c.inboundConnectors.length} inbound connectors`,
    `${c.receiveConnectors.length} receive connectors`,
    `${c.routes.length} routes`,
    `${c.users.length} users`,
  ].join(', ');
}

async function requireVersion(store: ConfigStore, v: number): Promise<ConfigVersion> {
  const got = await store.get(v);
  if (!got) throw new OpsError('not-found', `no configuration version ${v} (see config history)`);
  return got;
}

/** The built-in default of every setting. */
export function configDefaults(): Config {
  return defaultConfig();
}

/** The configuration in force (or `version`), masked; with `changed` only what differs from the defaults. */
export async function showConfig(ctx: OpsContext, opts: { version?: number; changed?: boolean } = {}): Promise<ShownConfig> {
  const cur = opts.version === undefined ? await ctx.store.current() : await ctx.store.get(opts.version);
  if (!cur) throw opts.version === undefined ? new OpsError('unavailable', 'the store holds no configuration') : new OpsError('not-found', `no configuration version ${opts.version} (see config history)`);
  const masked = maskSecrets(cur.config);
  return { version: cur.version, createdAt: cur.createdAt, actor: cur.actor, comment: cur.comment, config: opts.changed ? changedSettings(masked, defaultConfig()) : masked };
}

/** Validate and compile a YAML text named `source`; throws ConfigErrors (`source: path: reason`). */
export function validateConfigText(text: string, source: string): Validated {
  const config = parseConfigText(text, source);
  return { config, summary: summary(config), warnings: configWarnings(config, source), incomplete: completenessProblems(config) };
}

/**
 * Make validated YAML the new version (all or nothing). Masked secrets take the stored ones of the
 * version in force under the store's write lock (not one read before it, which a change saved
 * meanwhile would make stale); with `baseVersion`, a change saved since it refuses the apply.
 */
export async function applyConfig(
  ctx: OpsContext,
  input: { text: string; source: string; comment?: string; force?: boolean; baseVersion?: number },
): Promise<Changed & Omit<Validated, 'config' | 'incomplete'>> {
  const v = validateConfigText(input.text, input.source);
  requireComplete(v.config, input.force);
  const version = await ctx.store.update(ctx.actor, input.comment ?? `config apply ${input.source}`, (draft, now) => {
    if (input.baseVersion !== undefined && now !== input.baseVersion) {
      throw new OpsError('conflict', `the configuration changed since version ${input.baseVersion} (now ${now}): export it again and reapply your change`);
    }
    const next = keepMaskedSecrets(v.config, draft);
    for (const k of Object.keys(draft)) delete (draft as unknown as Record<string, unknown>)[k];
    Object.assign(draft, next);
  });
  return { version, summary: v.summary, warnings: v.warnings };
}

/** The configuration in force as YAML (secrets masked) with a header naming its version. */
export async function exportConfig(ctx: OpsContext): Promise<{ version: number; yaml: string }> {
  const cur = await ctx.store.current();
  if (!cur) throw new OpsError('unavailable', 'the store holds no configuration');
  const when = new Date(cur.createdAt).toISOString();
  return { version: cur.version, yaml: `# mailgate configuration version ${cur.version}, saved ${when} by ${cur.actor}\n${configToYaml(maskSecrets(cur.config))}` };
}

/** The newest `limit` versions: who, when, why and a summary of what each changed. */
export async function configHistory(ctx: OpsContext, limit = 20): Promise<HistoryEntry[]> {
  const { store } = ctx;
  const out: HistoryEntry[] = [];
  for (const h of await store.history(limit)) {
    const before = h.version > 1 ? await store.get(h.version - 1) : undefined;
    out.push({ ...h, changes: summarizeChange(before?.config, (await requireVersion(store, h.version)).config) });
  }
  return out;
}

/** The YAML diff (secrets masked) of versions `from` and `to` (defaults: the one before, and the one in force); empty when the same. */
export async function configDiff(ctx: OpsContext, opts: { from?: number; to?: number } = {}): Promise<{ from: number; to: number; diff: string }> {
  const b = opts.to ?? (await ctx.store.currentVersion());
  const a = opts.from ?? b - 1;
  if (a < 1) throw new OpsError('invalid', `version ${b} is the first one: nothing to compare it with`);
  const older = await requireVersion(ctx.store, a);
  const newer = await requireVersion(ctx.store, b);
  return { from: a, to: b, diff: lineDiff(maskedYaml(older.config), maskedYaml(newer.config), `config version ${a}`, `config version ${b}`) };
}

/** Save a new version equal to version `n`. */
export async function rollbackConfig(ctx: OpsContext, n: number, opts: { comment?: string; force?: boolean } = {}): Promise<Changed> {
  const target = await requireVersion(ctx.store, n);
  if (n === (await ctx.store.currentVersion())) throw new OpsError('conflict', `version ${n} is already in force`);
  requireComplete(target.config, opts.force);
  return { version: await ctx.store.save(target.config, ctx.actor, `rollback to version ${n}${opts.comment ? `: ${opts.comment}` : ''}`) };
}
