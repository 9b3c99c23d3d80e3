/**
 * @module trace/reports/rule-hits
 * Transport rule hits over a window, from the RULE events smtp/rules-run writes ("rule <name>
 * mode=<mode> ran=<actions> [would-have-run=<actions>]"): counts per rule and mode (an Audit hit
 * is what the rule *would have* done in Enforce), and the latest messages one rule hit in one mode,
 * for the "switch to Enforce" confirmation. Other RULE events (a redirect's note) are not hits.
 * The SQL is each store's (stores/sqlite and stores/postgres trace-dashboard); the parsing and
 * counting here are shared, so both give the same hits.
 * Touches: nothing itself (the given TraceStore).
 */
import type { RuleEventGroup, RuleHitSample, TraceStore } from '../trace-store.ts';

export type { RuleHitSample } from '../trace-store.ts';

export interface RuleHitDetail {
  rule: string;
  mode: string;
  ran: string[];
  wouldHave: string[];
}

/** A RULE event's detail parsed; undefined for anything that is not a hit. */
export function parseRuleDetail(detail: string | undefined): RuleHitDetail | undefined {
  const m = /^rule (.+) mode=(\S+) ran=(\S+)(?: would-have-run=(\S+))?$/.exec(detail ?? '');
  if (!m) return undefined;
  const list = (s: string | undefined): string[] => (!s || s === 'none' ? [] : s.split('+'));
  return { rule: m[1] as string, mode: m[2] as string, ran: list(m[3]), wouldHave: list(m[4]) };
}

export interface RuleHitCount {
  rule: string;
  mode: string;
  hits: number;
  /** Latest hit (ms epoch). */
  lastAt: number;
  /** Actions that would have run (Audit modes), union over the hits. */
  wouldHave: string[];
}

/** Hits per rule and mode from RULE events grouped by detail; by rule, then mode. */
export function countRuleHits(rows: readonly RuleEventGroup[]): RuleHitCount[] {
  const out = new Map<string, RuleHitCount>();
  for (const r of rows) {
    const h = parseRuleDetail(r.detail ?? undefined);
    if (!h) continue;
    const key = `${h.rule}\u0000${h.mode}`;
    const c = out.get(key) ?? { rule: h.rule, mode: h.mode, hits: 0, lastAt: 0, wouldHave: [] };
    c.hits += r.n;
    c.lastAt = Math.max(c.lastAt, r.last);
    for (const a of h.wouldHave) if (!c.wouldHave.includes(a)) c.wouldHave.push(a);
    out.set(key, c);
  }
  return [...out.values()].sort((a, b) => a.rule.localeCompare(b.rule) || a.mode.localeCompare(b.mode));
}

/** Hits per rule and mode in [since, until), read through a TraceStore (a fleet's shared trace). */
export async function ruleHitCountsFrom(trace: TraceStore, since: number, until: number): Promise<RuleHitCount[]> {
  return countRuleHits(await trace.ruleEventGroups(since, until));
}

/** `s` for a LIKE pattern with ESCAPE '\\'. */
export const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The LIKE pattern narrowing RULE events to one rule and mode (case folded: matchRuleHit decides). */
export const ruleLikePattern = (rule: string, mode: string): string => `rule ${likeEscape(rule)} mode=${likeEscape(mode)} %`;

type SampleRecord = Record<string, string | number | null | undefined>;

/** The sample of a RULE event row when it is a hit of exactly `rule` in `mode`. */
export function matchRuleHit(r: SampleRecord, rule: string, mode: string): RuleHitSample | undefined {
  // LIKE folds ASCII case and a name may hold " mode=": the parsed detail decides.
  const h = parseRuleDetail(String(r.detail));
  if (!h || h.rule !== rule || h.mode !== mode) return undefined;
  const s = (v: string | number | null | undefined): string => (v === null || v === undefined ? '' : String(v));
  return { id: s(r.id), at: Number(r.at), clientIp: s(r.clientIp), mailFrom: s(r.mailFrom), headerFrom: s(r.headerFrom), subject: s(r.subject), attribution: s(r.attribution), detail: s(r.detail) };
}

