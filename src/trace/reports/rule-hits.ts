/**
 * @module trace/reports/rule-hits
 * Transport rule hits over a window, from the RULE events smtp/rules-run writes ("rule <name>
 * mode=<mode> ran=<actions> [would-have-run=<actions>]"): counts per rule and mode (an Audit hit
 * is what the rule *would have* done in Enforce), and the latest messages one rule hit in one mode,
 * for the "switch to Enforce" confirmation. Other RULE events (a redirect's note) are not hits.
 * Touches: reads trace_event and trace_message.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady } from '../store.ts';

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

/** Hits per rule and mode in [since, until). */
export function ruleHitCounts(db: Db, since: number, until: number): RuleHitCount[] {
  if (!traceReady(db)) return [];
  const rows = db
    .prepare("SELECT detail, COUNT(*) AS n, MAX(at) AS last FROM trace_event WHERE event = 'RULE' AND at >= ? AND at < ? GROUP BY detail")
    .all(since, until) as Array<{ detail: string | null; n: number; last: number }>;
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

export interface RuleHitSample {
  id: string;
  at: number;
  clientIp: string;
  mailFrom: string;
  headerFrom: string;
  subject: string;
  attribution: string;
  /** The RULE event's detail. */
  detail: string;
}

const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The latest `limit` messages rule `rule` hit in `mode` in [since, until), newest first. */
export function ruleHitSamples(db: Db, rule: string, mode: string, since: number, until: number, limit: number): RuleHitSample[] {
  if (!traceReady(db)) return [];
  const rows = db
    .prepare(
      `SELECT e.message_id AS id, e.at AS at, e.detail AS detail, m.client_ip AS clientIp, m.mail_from AS mailFrom, m.header_from AS headerFrom, m.subject AS subject, m.attribution AS attribution
       FROM trace_event e LEFT JOIN trace_message m ON m.id = e.message_id
       WHERE e.event = 'RULE' AND e.at >= ? AND e.at < ? AND e.detail LIKE ? ESCAPE '\\'
       ORDER BY e.at DESC, e.id DESC`,
    )
    .iterate(since, until, `rule ${likeEscape(rule)} mode=${likeEscape(mode)} %`) as IterableIterator<Record<string, string | number | null>>;
  const out: RuleHitSample[] = [];
  for (const r of rows) {
    // LIKE folds ASCII case and a name may hold " mode=": the parsed detail decides.
    const h = parseRuleDetail(String(r.detail));
    if (!h || h.rule !== rule || h.mode !== mode) continue;
    const s = (v: string | number | null | undefined): string => (v === null || v === undefined ? '' : String(v));
    out.push({ id: s(r.id), at: Number(r.at), clientIp: s(r.clientIp), mailFrom: s(r.mailFrom), headerFrom: s(r.headerFrom), subject: s(r.subject), attribution: s(r.attribution), detail: s(r.detail) });
    if (out.length >= limit) break;
  }
  return out;
}
