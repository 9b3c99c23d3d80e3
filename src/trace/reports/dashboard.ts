/**
 * @module trace/reports/dashboard
 * The web console's dashboard series, over the gateway's own trace rows (imports are
 * the audit's business): messages per time bucket by attribution, refusals per bucket by reply
 * code (`550 5.7.68`), the Direct Send sources of the window (a source first seen inside the
 * window is new), and delivery failures and deferrals. Every query is bounded by the window
 * (received_at / at indexes) and the source list by `limit`.
 * The grouping runs in each store's SQL (stores/sqlite and stores/postgres trace-dashboard), the
 * aggregation below is shared, so both give the same dashboard.
 * Touches: nothing itself (the given TraceStore).
 */
import type { DashboardFailures, DashboardGroup, DashboardSource, FailureRow, TraceStore } from '../trace-store.ts';

export type { FailureRow } from '../trace-store.ts';

/** Attributions charted on their own; anything else (relay-denied, none) is "other". */
export const DASHBOARD_ATTRIBUTIONS = ['direct-send', 'connector', 'authenticated', 'anonymous-external', 'other'] as const;
export type DashboardAttribution = (typeof DASHBOARD_ATTRIBUTIONS)[number];

export interface DashboardWindow {
  since: number;
  until: number;
  bucketMs: number;
}

export interface TrafficSeries {
  /** Start of each bucket, epoch ms. */
  buckets: number[];
  byAttribution: Record<DashboardAttribution, number[]>;
  /** Refused transactions per bucket, by reply code ("550 5.7.68", "421 4.7.0"); codes ordered by total. */
  refusals: { code: string; counts: number[]; total: number }[];
  totals: Record<DashboardAttribution, number>;
}

export interface DirectSendSourceRow extends DashboardSource {
  /** First Direct Send from this address ever recorded falls inside the window. */
  isNew: boolean;
}

function bucketCount(w: DashboardWindow): number {
  return Math.max(1, Math.ceil((w.until - w.since) / w.bucketMs));
}

/** "550 5.7.68 TenantInboundAttribution; …" → "550 5.7.68"; "554 …" → "554". */
export function replyCode(reply: string | null): string {
  const m = /^([2-5]\d\d)(?:[ -]([2-5]\.\d{1,3}\.\d{1,3}))?/.exec(reply ?? '');
  if (!m) return 'unknown';
  return m[2] ? `${m[1]} ${m[2]}` : (m[1] ?? 'unknown');
}

/** Messages per bucket by attribution and refusals per bucket by reply code, from the grouped rows. */
export function aggregateTraffic(w: DashboardWindow, rows: readonly DashboardGroup[]): TrafficSeries {
  const n = bucketCount(w);
  const buckets = Array.from({ length: n }, (_, i) => w.since + i * w.bucketMs);
  const byAttribution = Object.fromEntries(DASHBOARD_ATTRIBUTIONS.map((a) => [a, new Array<number>(n).fill(0)])) as Record<DashboardAttribution, number[]>;
  const totals = Object.fromEntries(DASHBOARD_ATTRIBUTIONS.map((a) => [a, 0])) as Record<DashboardAttribution, number>;
  const refusals = new Map<string, number[]>();
  for (const row of rows) {
    const i = Math.min(n - 1, Math.max(0, Math.floor(row.b)));
    const a: DashboardAttribution = (DASHBOARD_ATTRIBUTIONS as readonly string[]).includes(row.a) ? (row.a as DashboardAttribution) : 'other';
    byAttribution[a][i] = (byAttribution[a][i] ?? 0) + row.c;
    totals[a] += row.c;
    if (row.rejected) {
      const code = replyCode(row.r);
      let s = refusals.get(code);
      if (!s) refusals.set(code, (s = new Array<number>(n).fill(0)));
      s[i] = (s[i] ?? 0) + row.c;
    }
  }
  const ref = [...refusals].map(([code, counts]) => ({ code, counts, total: counts.reduce((x, y) => x + y, 0) })).sort((x, y) => y.total - x.total || x.code.localeCompare(y.code));
  return { buckets, byAttribution, refusals: ref, totals };
}

/** A source is new when its first Direct Send ever falls inside the window. */
export const markNew = (w: { since: number }, rows: readonly DashboardSource[]): DirectSendSourceRow[] => rows.map((r) => ({ ...r, isNew: r.firstSeen >= w.since }));

/** The dashboard's traffic, sources and failures read through a TraceStore (a fleet's shared trace). */
export async function dashboardFrom(trace: TraceStore, w: DashboardWindow, limits: { sources?: number; failures?: number } = {}): Promise<{ traffic: TrafficSeries; sources: DirectSendSourceRow[]; failures: DashboardFailures }> {
  const [groups, sources, failures] = await Promise.all([trace.dashboardGroups(w), trace.dashboardSources(w, limits.sources ?? 50), trace.dashboardFailures(w, limits.failures ?? 10)]);
  return { traffic: aggregateTraffic(w, groups), sources: markNew(w, sources), failures };
}
