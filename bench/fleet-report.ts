/**
 * @module bench/fleet-report
 * The figures of bench/fleet-smtp: percentiles and medians, one row per configuration (medians
 * over the rounds, ranges beside), the fleet ÷ single ratio, a Markdown table and a JSON line.
 * Pure functions; nothing here runs or measures.
 * Touches: nothing.
 */

/** One node on SQLite; one or two nodes on one PostgreSQL schema. */
export type BenchConfig = 'sqlite-1' | 'postgres-1' | 'postgres-2';

export const CONFIG_LABEL: Record<BenchConfig, string> = { 'sqlite-1': 'one node, SQLite', 'postgres-1': 'one node, PostgreSQL', 'postgres-2': 'two nodes, one PostgreSQL' };

export interface RoundResult {
  config: BenchConfig;
  round: number;
  messages: number;
  /** smtp-source wall time (the slowest run when the load is split). */
  acceptSeconds: number;
  /** From the load's start until the sink counted every message (NaN when it never did). */
  drainSeconds: number;
  delivered: number;
  /** smtp-source runs that exited non-zero. */
  failedRuns: number;
  /** Per message, ms from the RECEIVE stamp to visible in the shared trace (fleet only). */
  lagMs: number[];
  /** Messages of this run with a trace_message row in PostgreSQL (fleet only). */
  traceRows?: number;
  /** CPU seconds of the nodes' process trees, and of the PostgreSQL backends serving them, from the load's start until delivered (and, on PostgreSQL, shipped). */
  nodeCpuS: number;
  pgCpuS?: number;
  loadStart: number;
  loadEnd: number;
}

/** The p-th percentile (nearest rank) of an ascending array; NaN when empty. */
export function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k] as number;
}

export function median(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export interface ConfigSummary {
  config: BenchConfig;
  rounds: number;
  acceptedPerSec: number;
  acceptedRange: [number, number];
  drainedPerSec: number;
  /** Delivered ÷ sent over every round. */
  delivered: number;
  sent: number;
  failedRuns: number;
  lag: { p50: number; p95: number; max: number; messages: number } | undefined;
  traceRows: number | undefined;
  /** CPU seconds per 1,000 messages (medians): the nodes, the PostgreSQL backends serving them. */
  nodeCpuPer1k: number;
  pgCpuPer1k: number | undefined;
}

export function summarise(rounds: readonly RoundResult[], config: BenchConfig): ConfigSummary {
  const mine = rounds.filter((r) => r.config === config);
  const acc = mine.map((r) => r.messages / r.acceptSeconds);
  const lag = mine.flatMap((r) => r.lagMs).sort((a, b) => a - b);
  const rows = mine.map((r) => r.traceRows).filter((x): x is number => x !== undefined);
  return {
    config,
    rounds: mine.length,
    acceptedPerSec: median(acc),
    acceptedRange: [Math.min(...acc), Math.max(...acc)],
    drainedPerSec: median(mine.map((r) => r.messages / r.drainSeconds)),
    delivered: mine.reduce((s, r) => s + r.delivered, 0),
    sent: mine.reduce((s, r) => s + r.messages, 0),
    failedRuns: mine.reduce((s, r) => s + r.failedRuns, 0),
    lag: lag.length ? { p50: pct(lag, 50), p95: pct(lag, 95), max: lag[lag.length - 1] as number, messages: lag.length } : undefined,
    traceRows: rows.length ? rows.reduce((s, x) => s + x, 0) : undefined,
    nodeCpuPer1k: median(mine.map((r) => (r.nodeCpuS * 1000) / r.messages)),
    pgCpuPer1k: mine.some((r) => r.pgCpuS !== undefined) ? median(mine.map((r) => ((r.pgCpuS ?? NaN) * 1000) / r.messages)) : undefined,
  };
}

const n0 = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const n2 = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '–');

/** The Markdown table: one row per configuration, then each configuration's ratio to the first. */
export function table(summaries: readonly ConfigSummary[]): string {
  const row = (s: ConfigSummary): string => {
    const lag = s.lag ? `${n0(s.lag.p50)} / ${n0(s.lag.p95)} / ${n0(s.lag.max)}` : '–';
    const rows = s.traceRows === undefined ? '–' : `${n0(s.traceRows)} of ${n0(s.sent)}`;
    return `| ${CONFIG_LABEL[s.config]} | ${n0(s.acceptedPerSec)} (${n0(s.acceptedRange[0])}–${n0(s.acceptedRange[1])}) | ${n0(s.drainedPerSec)} | ${n0(s.delivered)} of ${n0(s.sent)} | ${lag} | ${rows} | ${n2(s.nodeCpuPer1k)} / ${n2(s.pgCpuPer1k)} | ${s.failedRuns} |`;
  };
  const [base, ...rest] = summaries;
  return [
    '| configuration | accepted msg/s (range) | drained msg/s | delivered | trace lag p50 / p95 / max ms | rows in the shared trace | CPU s per 1k msgs: nodes / PostgreSQL | failed runs |',
    '|---|---|---|---|---|---|---|---|',
    ...summaries.map(row),
    '',
    ...(base
      ? rest.map((s) => `ratio ${CONFIG_LABEL[s.config]} ÷ ${CONFIG_LABEL[base.config]}: accepted ${(s.acceptedPerSec / base.acceptedPerSec).toFixed(2)}×, drained ${(s.drainedPerSec / base.drainedPerSec).toFixed(2)}×`)
      : []),
  ].join('\n');
}
