/**
 * @module ops/config-section
 * Edit one section of the configuration as a whole (the console's Configuration page: the
 * organization, accepted domains, inbound connectors, receive connectors, lists, routes), with
 * optimistic concurrency: the edit names the version it was made on and is refused (conflict)
 * when another change landed since. The result is validated as a whole configuration: a bad entry
 * comes back as ConfigErrors whose paths (`routes[0].nextHop`) name the field, so the page can
 * show each error beside its input. `dryRun` returns the diff without saving. Users are not a
 * section here (their hashes are never sent out; ops/users edits them). Masked secrets sent back
 * unchanged keep the stored ones.
 * Touches: the config store of the context.
 */
import { configWarnings, keepMaskedSecrets, lineDiff, maskedYaml, validateConfig, type Config } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { requireComplete } from './model.ts';

export const CONFIG_SECTIONS = ['organization', 'acceptedDomains', 'inboundConnectors', 'receiveConnectors', 'lists', 'routes'] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];

export interface SectionEdit {
  section: ConfigSection;
  /** The section's new value (the shape `GET /api/v1/config` shows it in). */
  value: unknown;
  /** The version the edit was made on. */
  baseVersion: number;
  comment?: string | undefined;
  force?: boolean | undefined;
  dryRun?: boolean | undefined;
}

export interface SectionEdited {
  /** The version in force after the edit (the base for a dry run or an edit changing nothing). */
  version: number;
  applied: boolean;
  diff: string;
  warnings: string[];
}

function stale(base: number, now: number): OpsError {
  return new OpsError('conflict', `the configuration changed since version ${base} (now ${now}): reload and edit again`);
}

/** Validate the configuration in force with `section` replaced; save it unless `dryRun`. */
export async function editSection(ctx: OpsContext, e: SectionEdit): Promise<SectionEdited> {
  if (!(CONFIG_SECTIONS as readonly string[]).includes(e.section)) throw new OpsError('invalid', `no configuration section "${String(e.section)}" (have: ${CONFIG_SECTIONS.join(', ')})`);
  // A missing value would silently become the section's default (every route gone): refused.
  if (e.value === undefined || e.value === null) throw new OpsError('invalid', `no value given for section ${e.section}`);
  const cur = await ctx.store.current();
  if (!cur) throw new OpsError('unavailable', 'the store holds no configuration');
  if (cur.version !== e.baseVersion) throw stale(e.baseVersion, cur.version);
  const draft: Record<string, unknown> = { ...structuredClone(cur.config), [e.section]: e.value };
  const next = keepMaskedSecrets(validateConfig(draft), cur.config);
  requireComplete(next, e.force);
  const diff = lineDiff(maskedYaml(cur.config), maskedYaml(next), `config version ${cur.version}`, 'edited');
  const warnings = configWarnings(next, `config edit ${e.section}`);
  if (e.dryRun || diff === '') return { version: cur.version, applied: false, diff, warnings };
  const version = await ctx.store.update(ctx.actor, e.comment ?? `config edit ${e.section}`, (d: Config, now: number) => {
    // Checked again under the store's write lock.
    if (now !== e.baseVersion) throw stale(e.baseVersion, now);
    Object.assign(d, { [e.section]: next[e.section] });
  });
  return { version, applied: version !== cur.version, diff, warnings };
}
