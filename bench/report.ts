/**
 * @module bench/report
 * Reads one harness run's CSVs (bench/run.sh: results.csv and cpu.csv written by bench-peers'
 * lib.sh, latency.csv and idle.csv by our clients, machine.txt) and prints the results table
 * (medians over rounds, min–max), the ratios to the bare sink and to each peer, the goal checks,
 * and writes the same as JSON (and the markdown) under bench/results/.
 * usage: node --import tsx bench/report.ts RUN_DIR
 * Touches: reads RUN_DIR; writes bench/results/<run>.json and .md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

type Row = Record<string, string>;

function csv(path: string): Row[] {
  if (!existsSync(path)) return [];
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = (head ?? '').split(',');
  return lines.filter((l) => l.trim() !== '').map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i] ?? `c${i}`, v])));
}

const med = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (x: number, d = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}
const stat = (xs: number[]): Stat => ({ median: med(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length });
const range = (s: Stat | undefined, d = 0): string => (s && s.n ? `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})` : '–');

interface TargetResult {
  target: string;
  loads: Record<string, { messages: number; accepted: Stat; drained: Stat; failedRuns: number; cpuPer1k: number; hwmMb: number; pssMb: number }>;
  latency?: { p50: Stat; p99: Stat; messages: number; ok: number };
  idle?: { extraMb: Stat; opened: number; wanted: number };
  peakRssMb: number;
}

function analyse(dir: string): { machine: string; targets: TargetResult[] } {
  const results = csv(join(dir, 'results.csv'));
  const cpu = csv(join(dir, 'cpu.csv'));
  const lat = csv(join(dir, 'latency.csv'));
  const idle = csv(join(dir, 'idle.csv'));
  const order: string[] = [];
  for (const r of results) if (r.target && !order.includes(r.target)) order.push(r.target);
  for (const r of lat) if (r.target && !order.includes(r.target)) order.push(r.target);
  const targets = order.map((t): TargetResult => {
    const loads: TargetResult['loads'] = {};
    const mine = results.filter((r) => r.target === t);
    for (const load of [...new Set(mine.map((r) => r.load ?? ''))]) {
      const rs = mine.filter((r) => r.load === load);
      const ok = rs.filter((r) => r.rc === '0');
      const use = ok.length ? ok : rs;
      const c = cpu.filter((x) => x.target === t && x.load === load);
      loads[load] = {
        messages: Number(rs[0]?.messages),
        accepted: stat(use.map((r) => Number(r.accept_mps))),
        drained: stat(use.map((r) => Number(r.drain_mps))),
        failedRuns: rs.length - ok.length,
        cpuPer1k: med(c.map((x) => (1000 * Number(x.target_cpu_s)) / Number(x.messages))),
        hwmMb: Math.max(0, ...c.map((x) => Number(x.tree_hwm_kb) / 1024)),
        pssMb: Math.max(0, ...c.map((x) => Number(x.tree_pss_kb) / 1024)),
      };
    }
    const l = lat.filter((r) => r.target === t && r.p50_ms !== '');
    const i = idle.filter((r) => r.target === t);
    return {
      target: t,
      loads,
      ...(l.length ? { latency: { p50: stat(l.map((r) => Number(r.p50_ms))), p99: stat(l.map((r) => Number(r.p99_ms))), messages: Number(l[0]?.messages), ok: Math.min(...l.map((r) => Number(r.ok))) } } : {}),
      ...(i.length ? { idle: { extraMb: stat(i.map((r) => Number(r.extra_mb))), opened: Math.min(...i.map((r) => Number(r.opened))), wanted: Number(i[0]?.wanted) } } : {}),
      peakRssMb: Math.max(0, ...Object.values(loads).map((x) => x.hwmMb)),
    };
  });
  const machine = existsSync(join(dir, 'machine.txt')) ? readFileSync(join(dir, 'machine.txt'), 'utf8') : '';
  return { machine, targets };
}

function render(machine: string, targets: TargetResult[]): string {
  const out: string[] = [];
  const loadNames = [...new Set(targets.flatMap((t) => Object.keys(t.loads)))];
  out.push('```', machine.trim(), '```', '');
  out.push('| target | ' + loadNames.map((l) => `load ${l}: accepted msg/s | load ${l}: drained msg/s`).join(' | ') + ' | p50 ms | p99 ms | idle conns: +MB RSS | peak RSS MB (tree ΣVmHWM) | CPU s/1k msgs (load ' + (loadNames[0] ?? '') + ') | failed runs |');
  out.push('|---|' + loadNames.map(() => '---|---|').join('') + '---|---|---|---|---|---|');
  for (const t of targets) {
    const cells = loadNames.map((l) => `${range(t.loads[l]?.accepted)} | ${range(t.loads[l]?.drained)}`);
    const failed = Object.values(t.loads).reduce((n, x) => n + x.failedRuns, 0);
    const idle = t.idle ? `${range(t.idle.extraMb, 1)}${t.idle.opened < t.idle.wanted ? ` (${t.idle.opened}/${t.idle.wanted} open)` : ''}` : '–';
    out.push(`| ${t.target} | ${cells.join(' | ')} | ${range(t.latency?.p50, 2)} | ${range(t.latency?.p99, 2)} | ${idle} | ${fmt(t.peakRssMb)} | ${fmt(t.loads[loadNames[0] ?? '']?.cpuPer1k ?? NaN, 2)} | ${failed} |`);
  }
  const peers = ['sink', 'postfix', 'haraka'].filter((p) => targets.some((t) => t.target === p));
  if (peers.length === 0) return [...out, '', ...goals(targets, loadNames)].join('\n');
  out.push('', 'Ratios of drained msg/s (medians); p99 ratio = target ÷ peer (lower is better).', '');
  out.push('| target | ' + loadNames.flatMap((l) => peers.map((p) => `load ${l} × ${p}`)).join(' | ') + ' | ' + peers.map((p) => `p99 ÷ ${p}`).join(' | ') + ' |');
  out.push('|---|' + loadNames.flatMap(() => peers.map(() => '---|')).join('') + peers.map(() => '---|').join(''));
  const by = (name: string): TargetResult | undefined => targets.find((t) => t.target === name);
  for (const t of targets) {
    const rs = loadNames.flatMap((l) => peers.map((p) => ratio(t.loads[l]?.drained.median ?? NaN, by(p)?.loads[l]?.drained.median ?? NaN)));
    const ps = peers.map((p) => ratio(t.latency?.p99.median ?? NaN, by(p)?.latency?.p99.median ?? NaN));
    out.push(`| ${t.target} | ${rs.join(' | ')} | ${ps.join(' | ')} |`);
  }
  out.push('', ...goals(targets, loadNames));
  return out.join('\n');
}

/** Issue 7's throughput goals: mailgate-full's drained msg/s ÷ Postfix's at load (1) and load (2). */
const GOAL_VS_POSTFIX = [3, 2] as const;

function goals(targets: TargetResult[], loads: string[]): string[] {
  const by = (name: string): TargetResult | undefined => targets.find((t) => t.target === name);
  const full = by('mailgate-full');
  const off = by('mailgate-off');
  const pf = by('postfix');
  const [l1, l2] = loads;
  const lines = ['Goals (issue 7), this run:', ''];
  const check = (label: string, got: number, want: number, higherIsBetter = true): void => {
    if (!Number.isFinite(got)) return;
    const ok = higherIsBetter ? got >= want : got <= want;
    lines.push(`- ${ok ? 'MET' : 'NOT MET'}: ${label}: ${got.toFixed(2)} (goal ${higherIsBetter ? '≥' : '≤'} ${want})`);
  };
  if (full && pf && l1) check(`mailgate-full ÷ postfix, load ${l1} drained`, (full.loads[l1]?.drained.median ?? NaN) / (pf.loads[l1]?.drained.median ?? NaN), GOAL_VS_POSTFIX[0]);
  if (full && pf && l2) check(`mailgate-full ÷ postfix, load ${l2} drained`, (full.loads[l2]?.drained.median ?? NaN) / (pf.loads[l2]?.drained.median ?? NaN), GOAL_VS_POSTFIX[1]);
  if (full?.latency && pf?.latency) check('mailgate-full p99 ÷ postfix p99 (latency client)', full.latency.p99.median / pf.latency.p99.median, 1, false);
  if (full && off && l1) check(`policy cost: 1 − full ÷ off, load ${l1} drained`, 1 - (full.loads[l1]?.drained.median ?? NaN) / (off.loads[l1]?.drained.median ?? NaN), 0.1, false);
  for (const t of [off, full]) if (t?.idle) check(`${t.target}: extra RSS MB for ${t.idle.wanted} idle connections`, t.idle.extraMb.median, 100, false);
  lines.push(...ceilings(targets, pf, [l1, GOAL_VS_POSTFIX[0]], [l2, GOAL_VS_POSTFIX[1]]));
  return lines;
}

/**
 * The throughput goals beside what the libraries alone reach in the same run (targets
 * smtp-server, smtp-server-fsync, smtp-relay, smtp-relay-fsync and smtp-relay-journal of bench/run.sh, each in as
 * many processes as mailgate has receive workers: no policy, no trace). mailgate runs on these
 * libraries and does what smtp-relay-fsync does and more; how close it comes is the question.
 */
function ceilings(targets: TargetResult[], pf: TargetResult | undefined, ...goalsByLoad: [string | undefined, number][]): string[] {
  const found = ['smtp-relay-journal', 'smtp-relay-fsync', 'smtp-server-fsync', 'smtp-relay', 'smtp-server'].flatMap((n) => targets.filter((t) => t.target === n));
  if (!pf || found.length === 0) return [];
  const lines = [
    '',
    'Ceilings, this run, ÷ postfix: the libraries alone in as many processes as mailgate has receive workers, no policy (smtp-server: receive only; smtp-relay: receive, 250, relay through nodemailer; -fsync: a new file fsynced per message before the 250; -journal: a per-process journal, one fdatasync per group of messages before their 250s):',
    '',
  ];
  for (const [load, want] of goalsByLoad) {
    if (!load) continue;
    const base = pf.loads[load]?.drained.median ?? NaN;
    const got = found.map((c) => `${c.target} ${ratio(c.loads[load]?.drained.median ?? NaN, base)}`).join(', ');
    lines.push(`- load ${load}: ${got} (goal for mailgate-full: ≥ ${want}×)${reach(targets, found, load, base, want)}`);
  }
  return lines;
}

/** The relay ceilings: they receive, answer 250 and relay to the sink, as a gateway must. */
const RELAY_CEILINGS = ['smtp-relay-journal', 'smtp-relay-fsync', 'smtp-relay'];
/** Of those, the ones durable before their 250, as issue 7 asks of mailgate-full. */
const DURABLE_RELAY_CEILINGS = ['smtp-relay-journal', 'smtp-relay-fsync'];

/**
 * Whether the goal is within what the libraries reach in this run: the best durable relay
 * ceiling against the goal (mailgate-full does all a durable ceiling does and more, so a goal
 * above it is above what any gateway on these libraries reaches on this machine), and how much
 * of the group-commit ceiling mailgate-full reaches (the share its own work leaves).
 */
function reach(targets: TargetResult[], found: TargetResult[], load: string, base: number, want: number): string {
  const drained = (t: TargetResult | undefined): number => t?.loads[load]?.drained.median ?? NaN;
  const best = (names: string[]): number => Math.max(...found.filter((c) => names.includes(c.target)).map(drained).filter(Number.isFinite));
  const parts: string[] = [];
  const durable = best(DURABLE_RELAY_CEILINGS) / base;
  const any = best(RELAY_CEILINGS) / base;
  if (Number.isFinite(durable)) parts.push(`the best durable relay ceiling, ${durable.toFixed(2)}×, is ${durable >= want ? 'at or above' : 'below'} the goal`);
  if (Number.isFinite(any) && any !== durable) parts.push(`the best relay ceiling with or without disk, ${any.toFixed(2)}×, is ${any >= want ? 'at or above' : 'below'} it`);
  const journal = drained(found.find((c) => c.target === 'smtp-relay-journal'));
  const full = drained(targets.find((t) => t.target === 'mailgate-full'));
  if (Number.isFinite(journal) && Number.isFinite(full) && journal > 0) parts.push(`mailgate-full drains ${Math.round((100 * full) / journal)} % of smtp-relay-journal's msg/s`);
  return parts.length ? `: ${parts.join('; ')}` : '';
}

function main(): void {
  const dir = resolve(process.argv[2] ?? '.');
  const { machine, targets } = analyse(dir);
  const md = render(machine, targets);
  console.log(md);
  const resultsDir = join(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const name = basename(dir);
  writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify({ run: name, dir, machine, targets }, null, 2) + '\n');
  writeFileSync(join(resultsDir, `${name}.md`), md + '\n');
  console.log(`\nwritten: bench/results/${name}.json, bench/results/${name}.md`);
}

main();
