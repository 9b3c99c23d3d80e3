/**
 * @module trace/reports/egress-gone
 * After the egress block: which sources stopped sending. The trace is split at the block date;
 * every client IP seen before it is compared with what it sent after it, on any path (gateway or
 * imported Exchange Online data):
 * - `gone`: sent before, nothing since, although its rate before predicts at least one message
 *   since: it was sending straight out and the block stopped it (move it to the relay, or
 *   confirm it was retired);
 * - `too-rare-to-tell`: nothing since, but it sent too rarely for that to mean anything yet;
 * - `still-direct`: imported (Exchange Online) rows still show it sending Direct Send after the
 *   block: the block does not cover it;
 * - `still-sending`: sent before and since (through mailgate, or another allowed path);
 * - `new`: first seen after the block (listed with `all`).
 * The per-IP groups come from TraceStore.egressGroups (each store's SQL).
 * Touches: nothing itself (the given TraceStore).
 */
import { plainIp, type Report, type ReportWindow } from './common.ts';
import type { EgressGroups, TraceStore } from '../trace-store.ts';

const DAY_MS = 86_400_000;

export type EgressGoneStatus = 'gone' | 'too-rare-to-tell' | 'still-direct' | 'still-sending' | 'new';

export interface EgressGoneSource {
  clientIp: string;
  status: EgressGoneStatus;
  before: number;
  after: number;
  /** Messages the rate before the block predicts since it (rounded to 0.1). */
  expectedAfter: number;
  /** Direct Send rows after the block from imported Exchange Online data. */
  directAfter: number;
  lastSeen: string;
  senders: string[];
  sources: string[];
  hint: string;
}

export interface EgressGoneOptions {
  /** The day (ms epoch) the block was applied; must lie inside the window. */
  blockAt: number;
  /** Also list `still-sending` and `new` sources (default: only the ones to look at). */
  all?: boolean | undefined;
  /** Only rows of this source ('gateway' or 'import:<name>'); default every source. */
  source?: string | undefined;
}

export const EGRESS_GONE_COLUMNS = ['clientIp', 'status', 'before', 'after', 'expectedAfter', 'directAfter', 'lastSeen', 'senders', 'sources', 'hint'];

const HINTS: Record<EgressGoneStatus, string> = {
  gone: 'stopped at the block: it was sending straight out; give it a path through mailgate (connector or SMTP AUTH) or confirm it was retired',
  'too-rare-to-tell': 'nothing since the block, but it sent too rarely before to say; look again later',
  'still-direct': 'Exchange Online still sees Direct Send from it after the block: the block does not cover it; run mailgate egress check from its subnet',
  'still-sending': 'still sending through an allowed path',
  new: 'first seen after the block',
};

const ORDER: EgressGoneStatus[] = ['still-direct', 'gone', 'too-rare-to-tell', 'still-sending', 'new'];

type Row = EgressGroups['rows'][number];

/** egressGoneReport over any trace store (the same result on every adapter). */
export async function egressGoneReportFrom(store: Pick<TraceStore, 'egressGroups'>, window: ReportWindow, opts: EgressGoneOptions): Promise<Report & { sources: EgressGoneSource[] }> {
  checkBlock(window, opts.blockAt);
  const { rows, detail } = await store.egressGroups({ since: window.since, until: window.until, source: opts.source }, opts.blockAt);
  return assemble(window, opts, rows, detail);
}

function checkBlock(window: ReportWindow, blockAt: number): void {
  if (!(blockAt > window.since && blockAt < window.until)) {
    throw new RangeError(`the block date ${new Date(blockAt).toISOString().slice(0, 10)} must lie inside the window (${new Date(window.since).toISOString()} to ${new Date(window.until).toISOString()})`);
  }
}

function assemble(window: ReportWindow, opts: EgressGoneOptions, rows: readonly Row[], detail: EgressGroups['detail']): Report & { sources: EgressGoneSource[] } {
  const { blockAt } = opts;
  const beforeDays = (blockAt - window.since) / DAY_MS;
  const afterDays = (window.until - blockAt) / DAY_MS;
  const out: EgressGoneSource[] = [];
  for (const r of rows) {
    const expected = Math.round(((r.before / beforeDays) * afterDays) * 10) / 10;
    const status: EgressGoneStatus =
      r.before === 0 ? 'new' : r.direct_after > 0 ? 'still-direct' : r.after > 0 ? 'still-sending' : expected >= 1 ? 'gone' : 'too-rare-to-tell';
    if (!opts.all && (status === 'still-sending' || status === 'new')) continue;
    const mine = detail.filter((d) => d.client_ip === r.client_ip);
    out.push({
      clientIp: plainIp(r.client_ip),
      status,
      before: r.before,
      after: r.after,
      expectedAfter: expected,
      directAfter: r.direct_after,
      lastSeen: new Date(r.last).toISOString(),
      senders: [...new Set(mine.map((d) => d.sender || '<>'))].slice(0, 3),
      sources: [...new Set(mine.map((d) => d.src))].sort(),
      hint: HINTS[status],
    });
  }
  out.sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || b.before - a.before || a.clientIp.localeCompare(b.clientIp));
  const count = (s: EgressGoneStatus): number => out.filter((x) => x.status === s).length;
  const day = new Date(blockAt).toISOString().slice(0, 10);
  const summary = [
    `${count('gone')} source(s) stopped sending after the block on ${day}: each was sending straight out (give it a path through mailgate) or was retired`,
    `${count('still-direct')} source(s) still send Direct Send after the block (the block does not cover them); ${count('too-rare-to-tell')} too rare to tell yet`,
  ];
  return { title: 'Sources gone since the egress block', window, summary, sections: [{ name: 'sources', columns: EGRESS_GONE_COLUMNS, rows: out.map((s) => ({ ...s })) }], sources: out };
}
