/**
 * @module trace/reports/rule-hits
 * Transport rule hits over a window, from the RULE events smtp/rules-run writes ("rule <name>
 * mode=<mode> ran=<actions> [would-have-run=<actions>]"): counts per rule and mode (an Audit hit
 * is what the rule *would have* done in Enforce), and the latest messages one rule hit in one mode,
 * for the "switch to Enforce" confirmation. Other RULE events (a redirect's note) are not hits.
 * The SQL here is SQLite's (stores/postgres/trace-dashboard has the fleet's); the parsing and
 * counting are shared, so both give the same hits.
 * Touches: reads trace_event and trace_message.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady } from '../store.ts';
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

/** RULE events of [since, until) grouped by detail, over one SQLite handle. */
export function ruleEventGroupsSync(db: Db, since: number, until: number): RuleEventGroup[] {
  if (!traceReady(db)) return [];
  return db
    .prepare("SELECT detail, COUNT(*) AS n, MAX(at) AS last FROM trace_event WHERE event = 'RULE' AND at >= ? AND at < ? GROUP BY detail")
    .all(since, until) as RuleEventGroup[];
}

/** Hits per rule and mode in [since, until). */
export function ruleHitCounts(db: Db, since: number, until: number): RuleHitCount[] {
  return countRuleHits(ruleEventGroupsSync(db, since, until));
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

/** The latest `limit` messages rule `rule` hit in `mode` in [since, until), newest first (ties: the latest written). */
export function ruleHitSamples(db: Db, rule: string, mode: string, since: number, until: number, limit: number): RuleHitSample[] {
  if (!traceReady(db)) return [];
  const rows = db
    .prepare(
      `SELECT e.message_id AS id, e.at AS at, e.detail AS detail, m.client_ip AS clientIp, m.mail_from AS mailFrom, m.header_from AS headerFrom, m.subject AS subject, m.attribution AS attribution
       FROM trace_event e LEFT JOIN trace_message m ON m.id = e.message_id
       WHERE e.event = 'RULE' AND e.at >= ? AND e.at < ? AND e.detail LIKE ? ESCAPE '\\'
       ORDER BY e.at DESC, e.id DESC`,
    )
    .iterate(since, until, ruleLikePattern(rule, mode)) as IterableIterator<SampleRecord>;
  const out: RuleHitSample[] = [];
  for (const r of rows) {
    const hit = matchRuleHit(r, rule, mode);
    if (!hit) continue;
    out.push(hit);
    if (out.length >= limit) break;
  }
  return out;
}
