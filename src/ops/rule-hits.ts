/**
 * @module ops/rule-hits
 * How often each transport rule matched real mail (from the trace's RULE events): per configured
 * rule, its hits in Enforce mode and its Audit-mode hits, shown as what it "would have" done; and,
 * before an admin switches a rule from Audit to Enforce, last week's would-have hits with the
 * latest messages, so the confirmation says what Enforce will start doing. Rules that matched but
 * are no longer configured (removed or renamed) are listed too, flagged.
 * The hits are ctx.trace's: this node's, or on a fleet node the shared trace's (every node's).
 * Touches: the trace (through ctx.trace) and config store (read only).
 */
import { ruleHitCountsFrom, type RuleHitCount, type RuleHitSample } from '../trace/reports/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { windowOf } from './reports.ts';

const AUDIT_MODES = new Set(['Audit', 'AuditAndNotify']);

export interface RuleHitsRow {
  name: string;
  /** Configured priority; null when the rule is no longer configured. */
  priority: number | null;
  state: string;
  mode: string;
  configured: boolean;
  /** Hits while in Enforce (actions ran). */
  enforced: number;
  /** Hits while in an audit mode: what the rule would have done. */
  wouldHave: number;
  /** Actions the audit hits would have run. */
  wouldHaveActions: string[];
  lastHit: string | null;
}

export interface RuleHitsResult {
  since: string;
  until: string;
  rules: RuleHitsRow[];
}

const iso = (t: number): string => new Date(t).toISOString();

/** Hits per rule and mode. */
async function counts(ctx: OpsContext, since: number, until: number): Promise<RuleHitCount[]> {
  return ruleHitCountsFrom(ctx.trace, since, until);
}

async function configuredRules(ctx: OpsContext): Promise<ReadonlyArray<{ name: string; priority: number; state: string; mode: string }>> {
  const v = await ctx.store.current();
  if (!v) throw new OpsError('unavailable', `no configuration in ${ctx.dataDir} (run mailgate init)`);
  return [...v.config.transportRules].sort((a, b) => a.priority - b.priority);
}

/** Hits per rule in the window (`since`, default 7d), configured rules in priority order first. */
export async function ruleHits(ctx: OpsContext, input: { since?: string | undefined; now?: number } = {}): Promise<RuleHitsResult> {
  const w = await windowOf(ctx, input.since, { defaultSince: '7d', ...(input.now !== undefined ? { now: input.now } : {}) });
  const hits = await counts(ctx, w.since, w.until);
  const rows = new Map<string, RuleHitsRow>();
  for (const r of await configuredRules(ctx)) {
    rows.set(r.name, { name: r.name, priority: r.priority, state: r.state, mode: r.mode, configured: true, enforced: 0, wouldHave: 0, wouldHaveActions: [], lastHit: null });
  }
  for (const c of hits) {
    let row = rows.get(c.rule);
    if (!row) {
      row = { name: c.rule, priority: null, state: 'Removed', mode: c.mode, configured: false, enforced: 0, wouldHave: 0, wouldHaveActions: [], lastHit: null };
      rows.set(c.rule, row);
    }
    if (AUDIT_MODES.has(c.mode)) {
      row.wouldHave += c.hits;
      for (const a of c.wouldHave) if (!row.wouldHaveActions.includes(a)) row.wouldHaveActions.push(a);
    } else row.enforced += c.hits;
    if (row.lastHit === null || Date.parse(row.lastHit) < c.lastAt) row.lastHit = iso(c.lastAt);
  }
  return { since: iso(w.since), until: iso(w.until), rules: [...rows.values()] };
}

export interface WouldHaveResult {
  rule: string;
  mode: string;
  since: string;
  until: string;
  /** Audit-mode hits in the window. */
  wouldHave: number;
  /** Actions they would have run. */
  actions: string[];
  /** The latest of them (at most `limit`). */
  messages: RuleHitSample[];
}

/**
 * What rule `name` would have done in the window (default 7d) had it been in Enforce: its audit-mode
 * hits and the latest messages. A rule already in Enforce answers too (its audit hits from before).
 */
export async function wouldHaveHits(ctx: OpsContext, name: string, input: { since?: string | undefined; limit?: number | undefined; now?: number } = {}): Promise<WouldHaveResult> {
  const rule = (await configuredRules(ctx)).find((r) => r.name.toLowerCase() === name.toLowerCase());
  if (!rule) throw new OpsError('not-found', `no transport rule named "${name}"`);
  const w = await windowOf(ctx, input.since, { defaultSince: '7d', ...(input.now !== undefined ? { now: input.now } : {}) });
  const audit = (await counts(ctx, w.since, w.until)).filter((c) => c.rule === rule.name && AUDIT_MODES.has(c.mode));
  const limit = input.limit ?? 20;
  const messages = (await Promise.all(audit.map((c) => ctx.trace.ruleHitSamples(rule.name, c.mode, w.since, w.until, limit))))
    .flat()
    .sort((a, b) => b.at - a.at)
    .slice(0, limit);
  const actions = [...new Set(audit.flatMap((c) => c.wouldHave))];
  return { rule: rule.name, mode: rule.mode, since: iso(w.since), until: iso(w.until), wouldHave: audit.reduce((n, c) => n + c.hits, 0), actions, messages };
}
