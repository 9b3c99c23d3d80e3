/**
 * @module ops/policy-replay
 * The engine of `policy replay` ("what would enforcement block" over recorded traffic): every traced
 * transaction's stored facts (listener, client IP, HELO, TLS, client certificate CN/SANs/verified,
 * AUTH user, MAIL FROM, each recipient — accepted ones and those refused one by one — and the
 * header From) are run through evaluateTransaction, the gateway's stage order (connect, mail, rcpt
 * per recipient, eod), once under the configuration in force and once under the candidate. What
 * changes is reported per source (client IP + sender) and per attribution, with samples.
 * The client's source port is not replayed (it identifies a connection, not a sender).
 * Speed: the policy is pure, so the trace store hands over distinct fact tuples (every column
 * replayTransaction reads, plus the recipients refused one by one) with their counts and first
 * rows (TraceStore.replayFacts; SQLite's fast path in stores/sqlite/trace-replay-facts, PostgreSQL groups in SQL
 * on a fleet), and each tuple is replayed once; stage verdicts are memoised too (VerdictCache).
 * 1,000,000 rows replay in a few seconds of CPU (bench/policy-replay.ts).
 * A transaction "passes" when no stage refuses it and at least one recipient is accepted (a
 * transaction without recorded recipients passes when connect and MAIL do); a DMARC hold counts
 * as refused. Reply texts come from the caller's `replyText` (smtp/replies.ts formatReply; ops/
 * may not import smtp/).
 * Touches: the trace (read only), through a TraceStore.
 */
import { evaluate, evaluateTransaction } from '../policy/index.ts';
import type { PolicyInput, PolicyReplyKey, PolicySnapshot, Stage, Verdict } from '../policy/types.ts';
import type { ReplayFactGroup, ReplayFacts, ReplaySample, TraceStore } from '../trace/index.ts';
import type { Report, ReportWindow } from '../trace/reports/index.ts';

/** Turns a reply key and its values into the reply line (smtp/replies.ts formatReply). */
export type ReplyText = (key: PolicyReplyKey | 'rule-reject', vars?: Record<string, string>) => string;

/** Without a formatter: the reply key itself. */
const keyOnly: ReplyText = (key) => key;

/** The outcome of one transaction under one configuration. */
export interface ReplayOutcome {
  rejected: boolean;
  stage?: 'connect' | 'mail' | 'rcpt' | 'eod';
  reply?: string;
  attribution: string;
}

/** A JSON array of strings stored in a column (recipients, certificate SANs). */
export function stringList(text: string | null): string[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

const attr = (v: Verdict, fallback: string): string => v.attribution?.kind ?? fallback;

/**
 * `evaluate` memoised on the whole input: it is pure, so equal facts give equal verdicts, and
 * recorded traffic repeats (the same device, sender and recipients), which makes replay of a
 * large trace cost little more than reading it.
 */
export class VerdictCache {
  private readonly memo = new Map<string, Verdict>();
  constructor(readonly snap: PolicySnapshot) {}
  evaluate(stage: Stage, input: PolicyInput): Verdict {
    const c = input.cert;
    const key = JSON.stringify([stage, input.listener, input.clientIp, input.helo, input.tls, input.tlsVersion, c?.subjectCN, c?.sanDns, c?.verified, input.authUser, input.mailFrom, input.rcpt, input.acceptedRcptCount, input.headerFrom]);
    let v = this.memo.get(key);
    if (!v) {
      v = evaluate(stage, input, this.snap);
      if (this.memo.size > 500_000) this.memo.clear();
      this.memo.set(key, v);
    }
    return v;
  }
}

/** Replay one transaction's facts under a snapshot (through its cache), with evaluateTransaction. Pure. */
export function replayTransaction(base: PolicyInput, mailFrom: string | undefined, rcpts: readonly string[], headerFrom: string | undefined, snap: PolicySnapshot | VerdictCache, replyText: ReplyText = keyOnly): ReplayOutcome {
  const cache = snap instanceof VerdictCache ? snap : new VerdictCache(snap);
  const t = evaluateTransaction({ ...base, mailFrom, rcpts, headerFrom }, cache.snap, { evaluate: (stage, input) => cache.evaluate(stage, input), rules: false });
  const reply = (v: Verdict): string | undefined => (v.action === 'reject' || v.action === 'tempfail' ? replyText(v.reply, v.vars) : undefined);
  const eod = t.stages.find((s) => s.stage === 'eod')?.verdict;
  const mail = t.stages.find((s) => s.stage === 'mail')?.verdict;
  // A connection has no attribution of its own (it needs a sender): '' = "(connection)".
  if (t.at === 'connect' && t.refusal) return { rejected: true, stage: 'connect', reply: reply(t.refusal), attribution: '' };
  if (!mail) return { rejected: false, attribution: '' };
  if ((t.at === 'mail' || t.at === 'rcpt' || t.at === 'eod') && t.refusal) return { rejected: true, stage: t.at, reply: reply(t.refusal), attribution: attr(t.refusal, '') };
  if (!eod) return { rejected: false, attribution: attr(mail, '') };
  // The replay counts a hold (DMARC p=quarantine) with the refusals: the message would not be delivered.
  if (eod.action !== 'continue') return { rejected: true, stage: 'eod', reply: reply(eod), attribution: attr(eod, '') };
  return { rejected: false, attribution: attr(eod, t.attribution?.kind ?? '') };
}

/** A row's facts as the policy's input (without MAIL FROM, recipients and header From). */
export function inputOf(r: ReplayFacts): PolicyInput {
  const sans = r.cert_sans ? stringList(r.cert_sans) : [];
  const hasCert = r.cert_cn !== null || sans.length > 0;
  return {
    listener: r.listener,
    clientIp: r.client_ip,
    helo: r.helo ?? undefined,
    tls: r.tls_version !== null && r.tls_version !== '',
    tlsVersion: r.tls_version ?? undefined,
    cert: hasCert ? { subjectCN: r.cert_cn ?? undefined, sanDns: sans, verified: r.cert_verified === 1 } : undefined,
    authUser: r.auth_user ?? undefined,
  };
}

export interface SourceChange {
  clientIp: string;
  sender: string;
  change: 'newly rejected' | 'no longer rejected';
  messages: number;
  attributionNow: string;
  attributionCandidate: string;
  reply: string;
  samples: string[];
}

/** A source's changed transactions while the groups come in; the earliest row's outcome names it. */
interface SourceTally {
  change: SourceChange;
  first: ReplaySample | undefined;
  samples: ReplaySample[];
}

/** (received_at, id) order; ids compared by code unit, as the stores' byte order for ASCII ids. */
const earlier = (a: ReplaySample, b: ReplaySample): number => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Adds up the replay of fact groups (trace-store ReplayFactGroup) in any order: each group is
 * replayed once under both snapshots and counts as many transactions as it has rows. A source's
 * attributions and reply come from its earliest row, its samples are its first rows in time, so
 * the report does not depend on how a store groups or orders them.
 */
class ReplayTally {
  private readonly bySource = new Map<string, SourceTally>();
  private readonly byAttr = new Map<string, { attribution: string; transactions: number; newlyRejected: number; noLongerRejected: number }>();
  private readonly curCache: VerdictCache;
  private readonly candCache: VerdictCache;
  replayed = 0;
  private newly = 0;
  private noLonger = 0;

  constructor(current: PolicySnapshot, candidate: PolicySnapshot, private readonly samples: number, private readonly replyText: ReplyText) {
    this.curCache = new VerdictCache(current);
    this.candCache = new VerdictCache(candidate);
  }

  add(g: ReplayFactGroup): void {
    const r = g.facts;
    const rcpts = [...new Set([...stringList(r.recipients), ...g.refused])];
    const base = inputOf(r);
    const mailFrom = r.mail_from ?? undefined;
    const now = replayTransaction(base, mailFrom, rcpts, r.header_from ?? undefined, this.curCache, this.replyText);
    const cand = replayTransaction(base, mailFrom, rcpts, r.header_from ?? undefined, this.candCache, this.replyText);
    this.replayed += g.count;
    const a = this.byAttr.get(now.attribution) ?? { attribution: now.attribution || '(connection)', transactions: 0, newlyRejected: 0, noLongerRejected: 0 };
    a.transactions += g.count;
    this.byAttr.set(now.attribution, a);
    if (now.rejected === cand.rejected) return;
    const change = cand.rejected ? 'newly rejected' : 'no longer rejected';
    if (cand.rejected) (this.newly += g.count, a.newlyRejected += g.count);
    else (this.noLonger += g.count, a.noLongerRejected += g.count);
    const clientIp = r.client_ip;
    const sender = (r.mail_from ?? '').toLowerCase();
    const key = `${change}\0${clientIp}\0${sender}`;
    const outcome = { attributionNow: now.attribution, attributionCandidate: cand.attribution, reply: (cand.rejected ? cand.reply : now.reply) ?? '' };
    const first = g.samples[0];
    let s = this.bySource.get(key);
    if (!s) {
      s = { change: { clientIp, sender, change, messages: 0, ...outcome, samples: [] }, first, samples: [] };
      this.bySource.set(key, s);
    } else if (first && (!s.first || earlier(first, s.first) < 0)) {
      Object.assign(s.change, outcome);
      s.first = first;
    }
    s.change.messages += g.count;
    if (this.samples > 0 && g.samples.length) s.samples = [...s.samples, ...g.samples].sort(earlier).slice(0, this.samples);
  }

  report(window: ReportWindow): Report & { changes: SourceChange[]; replayed: number } {
    const { replayed, newly, noLonger } = this;
    const changes = [...this.bySource.values()].map((t) => ({ ...t.change, samples: t.samples.map((x) => `${x.id}${x.subject ? ` "${x.subject}"` : ''}`) }));
    const byAttr = this.byAttr;
    changes.sort((x, y) => x.change.localeCompare(y.change) || y.messages - x.messages || x.clientIp.localeCompare(y.clientIp) || x.sender.localeCompare(y.sender));
    const sourcesOf = (c: string): number => changes.filter((s) => s.change === c).length;
    return {
      title: 'Policy replay',
      window,
      summary: [
        `replayed ${replayed} transactions: ${newly} newly rejected (from ${sourcesOf('newly rejected')} sources), ${noLonger} no longer rejected (from ${sourcesOf('no longer rejected')} sources), ${replayed - newly - noLonger} unchanged`,
      ],
      sections: [
        { name: 'changes by source', columns: ['change', 'clientIp', 'sender', 'messages', 'attributionNow', 'attributionCandidate', 'reply', 'samples'], rows: changes.map((c) => ({ ...c })) },
        { name: 'changes by attribution', columns: ['attribution', 'transactions', 'newlyRejected', 'noLongerRejected'], rows: [...byAttr.values()].sort((x, y) => x.attribution.localeCompare(y.attribution)) },
      ],
      changes,
      replayed,
    };
  }
}

/**
 * Replay fact groups already read (e.g. one group per row: the reference the grouped replay is
 * tested against) under both snapshots and report the differences. Pure.
 */
export function replayGroups(groups: Iterable<ReplayFactGroup>, window: ReportWindow, current: PolicySnapshot, candidate: PolicySnapshot, samples = 3, opts: { replyText?: ReplyText } = {}): Report & { changes: SourceChange[]; replayed: number } {
  const tally = new ReplayTally(current, candidate, samples, opts.replyText ?? keyOnly);
  for (const g of groups) tally.add(g);
  return tally.report(window);
}

/** Replay the window's gateway transactions of a trace store under both snapshots and report the differences (the same report on SQLite and PostgreSQL over the same rows). */
export async function replayTraceFrom(
  trace: Pick<TraceStore, 'replayFacts'>,
  window: ReportWindow,
  current: PolicySnapshot,
  candidate: PolicySnapshot,
  samples = 3,
  opts: { replyText?: ReplyText } = {},
): Promise<Report & { changes: SourceChange[]; replayed: number }> {
  const tally = new ReplayTally(current, candidate, samples, opts.replyText ?? keyOnly);
  // One sample at least: a source's outcome is its earliest row's.
  for await (const g of trace.replayFacts({ since: window.since, until: window.until }, { samples: Math.max(1, samples) })) tally.add(g);
  return tally.report(window);
}
