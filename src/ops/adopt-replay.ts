/**
 * @module ops/adopt-replay
 * The part of an "Adopt as connector" preview that the rejection replay (ops/policy-replay) does
 * not show: over the window, how many of the gateway's transactions from the source's evidence
 * (its client IP, or its verified client certificate's CN) the candidate would attribute to the new
 * connector, and what they are attributed to now. A connector without a domain restriction
 * changes no accept/reject outcome while RejectDirectSend is off, so this is what the admin sees
 * change. The trace store hands over the source's distinct fact tuples with their counts
 * (TraceStore.replayFacts; on a fleet node the fleet's shared trace), so the count is exact and
 * costs the source's distinct tuples, not its rows.
 * Touches: the trace (read only), through a TraceStore.
 */
import { evaluateTransaction } from '../policy/index.ts';
import type { PolicySnapshot } from '../policy/types.ts';
import type { ReplayFactGroup, ReplaySample, ReplayScope, TraceStore } from '../trace/index.ts';
import type { ReportWindow } from '../trace/reports/index.ts';
import { inputOf, stringList } from './policy-replay.ts';

/** Samples shown. */
const SAMPLES = 3;

export interface AttributionShift {
  /** The source's transactions in the window (its IPs or certificate). */
  messages: number;
  /** Of them, attributed to the new connector under the candidate. */
  toConnector: number;
  /** Attribution now → count (e.g. "direct-send": 12). */
  now: Record<string, number>;
  /** A few queue ids with their subject (the first in time). */
  samples: string[];
  /** Always false: the count is exact (kept in the API's shape, where a row limit once cut it). */
  truncated: boolean;
}

/** Who the source is: its client IPs, or its verified client certificate's CN. */
export interface SourceMatch {
  ips: readonly string[];
  certCn?: string | undefined;
}

/** The shift over fact groups (any order; a group counts as many transactions as its rows). */
function shiftOver(groups: Iterable<ReplayFactGroup>, current: PolicySnapshot, candidate: PolicySnapshot, connector: string): AttributionShift {
  const out: AttributionShift = { messages: 0, toConnector: 0, now: {}, samples: [], truncated: false };
  let samples: ReplaySample[] = [];
  for (const g of groups) {
    const r = g.facts;
    const facts = { ...inputOf(r), mailFrom: r.mail_from ?? undefined, rcpts: stringList(r.recipients), headerFrom: r.header_from ?? undefined };
    const before = evaluateTransaction(facts, current, { rules: false }).attribution;
    const after = evaluateTransaction(facts, candidate, { rules: false }).attribution;
    out.messages += g.count;
    const was = before?.kind ?? '(none)';
    out.now[was] = (out.now[was] ?? 0) + g.count;
    if (after?.kind === 'connector' && after.connector === connector && !(before?.kind === 'connector' && before.connector === connector)) {
      out.toConnector += g.count;
      samples = [...samples, ...g.samples].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, SAMPLES);
    }
  }
  out.samples = samples.map((x) => `${x.id}${x.subject ? ` "${x.subject}"` : ''}`);
  return out;
}

const scopeOf = (window: ReportWindow, match: SourceMatch): ReplayScope => ({ since: window.since, until: window.until, match: { ips: [...new Set(match.ips)], certCn: match.certCn } });

/** Replay the source's transactions of a trace store under both snapshots: who the candidate attributes to `connector`. */
export async function attributionShiftFrom(trace: Pick<TraceStore, 'replayFacts'>, window: ReportWindow, current: PolicySnapshot, candidate: PolicySnapshot, match: SourceMatch, connector: string): Promise<AttributionShift> {
  const groups: ReplayFactGroup[] = [];
  for await (const g of trace.replayFacts(scopeOf(window, match), { samples: SAMPLES })) groups.push(g);
  return shiftOver(groups, current, candidate, connector);
}
