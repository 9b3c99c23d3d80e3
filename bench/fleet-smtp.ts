/**
 * @module bench/fleet-smtp
 * A fleet under SMTP load, in one run: the same bounded load (N messages from 127.0.0.1 over C
 * concurrent smtp-source sessions, a new connection per message, relayed to a loopback smtp-sink)
 * against (a) one `mailgate serve` node on SQLite and (b) two nodes sharing one PostgreSQL schema
 * (`init --store`, `serve --node --listen`), the load split across both; optionally (c) one node on
 * PostgreSQL (`--configs sqlite-1,postgres-1,postgres-2`: the store's cost apart from the second
 * node's). Rounds alternate the order (a b, b a, …). Reports accepted msg/s (smtp-source wall
 * time), drained msg/s (until the sink counted every message), delivery completion, the fleet's
 * trace lag (RECEIVE stamp → visible in the shared trace, bench/fleet-lag.ts), CPU per message of
 * the nodes and of the PostgreSQL backends serving them (bench/proc-cpu.ts) and the load average;
 * a Markdown table and a JSON line.
 * Every node gets bench/mailgate-config.ts's `off` configuration (trace on, as always).
 * Usage: node --import tsx bench/fleet-smtp.ts [-n 3000] [-c 20] [--rounds 2] [--workers 1]
 *          [--warmup 100] [--bytes 2000] [--timeout 300] [--url postgres://…/test]
 *          [--configs sqlite-1,postgres-2]
 * Touches: temporary data dirs (removed), loopback ports, the processes it starts (smtp-sink,
 * smtp-source, `mailgate serve`; stopped by their PID), mg_bench_fleet_* schemas (dropped).
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/core/sqlite.ts';
import { validateConfig } from '../src/config/index.ts';
import { PgConfigStore } from '../src/stores/postgres/config-store.ts';
import { openPool } from '../src/stores/postgres/pool.ts';
import { SqliteConfigStore } from '../src/stores/sqlite/config-store.ts';
import { cli, freePort, removeDir, ROOT, startGateway, tempDir, type Gateway } from '../test/helpers/gateway.ts';
import { rowsPresent, startLagPoller, type LagPoller } from './fleet-lag.ts';
import { CONFIG_LABEL, pct, summarise, table, type BenchConfig, type RoundResult } from './fleet-report.ts';
import { benchConfig } from './mailgate-config.ts';
import { backendsOf, cpuSeconds, sample, trees } from './proc-cpu.ts';
import { haveTools, runSource, startCountingSink, type CountingSink } from './postfix-tools.ts';

const SENDER_DOMAIN = 'bench.invalid';
const DRAIN_MS = 180_000;
const LAG_WAIT_MS = 60_000;

const { values: a } = parseArgs({
  options: {
    messages: { type: 'string', short: 'n', default: '3000' },
    concurrency: { type: 'string', short: 'c', default: '20' },
    rounds: { type: 'string', default: '2' },
    workers: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '100' },
    bytes: { type: 'string', default: '2000' },
    timeout: { type: 'string', default: '300' },
    url: { type: 'string', default: process.env.MAILGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    configs: { type: 'string', default: 'sqlite-1,postgres-2' },
  },
});
const N = Number(a.messages);
const C = Number(a.concurrency);
const ROUNDS = Number(a.rounds);
const WORKERS = Number(a.workers);
const WARMUP = Number(a.warmup);
const BYTES = Number(a.bytes);
const RUN_MS = Number(a.timeout) * 1000;
const URL_ = a.url;
const PG_PORT = Number(new URL(URL_).port || 5432);
const CONFIGS = a.configs.split(',').map((x) => x.trim()) as BenchConfig[];
if (!CONFIGS.length || CONFIGS.some((c) => !(c in CONFIG_LABEL)) || ![N, C, ROUNDS, WARMUP, BYTES, RUN_MS].every((x) => Number.isInteger(x) && x >= 0) || N < 2 || C < 2 || ROUNDS < 1 || !Number.isInteger(WORKERS) || WORKERS < 0) {
  console.error('usage: fleet-smtp.ts [-n MESSAGES>=2] [-c SESSIONS>=2] [--rounds R>=1] [--workers W] [--warmup N] [--bytes B] [--timeout S] [--url postgres://…] [--configs sqlite-1,postgres-1,postgres-2]');
  process.exit(2);
}

/** What this run started and must undo, whatever happens. */
const live = { gateways: new Set<Gateway>(), dirs: new Set<string>(), schemas: new Set<string>(), sink: undefined as CountingSink | undefined };

async function cleanup(): Promise<void> {
  await Promise.allSettled([...live.gateways].map((g) => g.stop()));
  live.gateways.clear();
  await live.sink?.stop();
  live.sink = undefined;
  for (const d of live.dirs) removeDir(d);
  live.dirs.clear();
  if (live.schemas.size) {
    const c = new pg.Client({ connectionString: URL_ });
    await c.connect();
    try {
      for (const s of live.schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      live.schemas.clear();
    } finally {
      await c.end();
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`${sig}: stopping what the bench started`);
    void cleanup().finally(() => process.exit(130));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const la = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

/** `n` split into `parts` near-equal integers. */
const split = (n: number, parts: number): number[] => Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));

async function serve(dir: string, port: number, args: string[] = []): Promise<Gateway> {
  const gw = await startGateway(dir, [port], { workers: WORKERS, env: { MAILGATE_LOG_LEVEL: 'warn' }, args });
  live.gateways.add(gw);
  if (WORKERS !== 1) await sleep(2000); // every cluster worker up, as run.sh waits
  return gw;
}

async function stopAll(gws: Gateway[], dirs: string[]): Promise<void> {
  for (const g of gws) {
    await g.stop();
    live.gateways.delete(g);
  }
  for (const d of dirs) {
    removeDir(d);
    live.dirs.delete(d);
  }
}

async function waitDelivered(sink: CountingSink, target: number, deadline: number): Promise<boolean> {
  while (sink.count() < target) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Untimed messages through every node first: compiled code paths, open delivery pool. */
async function warm(sink: CountingSink, ports: number[]): Promise<void> {
  if (WARMUP === 0) return;
  const before = sink.count();
  await Promise.all(ports.map((p, i) => runSource(p, 2, split(WARMUP, ports.length)[i] ?? 0, BYTES, RUN_MS)));
  await waitDelivered(sink, before + WARMUP, Date.now() + DRAIN_MS);
}

/** The timed load over the nodes (sessions and messages split evenly); the fleet's lag with a pool. */
async function load(sink: CountingSink, config: BenchConfig, round: number, nodes: { port: number; gw: Gateway; name: string }[], pool?: pg.Pool): Promise<RoundResult> {
  const roots = nodes.map((n) => n.gw.proc.pid ?? -1);
  const sink0 = sink.count();
  const loadStart = loadavg()[0] ?? NaN;
  const since = Date.now();
  const poller: LagPoller | undefined = pool ? startLagPoller(pool, nodes.map((n) => n.name), since) : undefined;
  const cpu0 = sample(trees(roots));
  const pg0 = pool ? sample(await backendsOf(pool, trees(roots), PG_PORT)) : undefined;
  try {
    const t0 = performance.now();
    const sessions = split(C, nodes.length);
    const messages = split(N, nodes.length);
    const runs = await Promise.all(nodes.map((n, i) => runSource(n.port, sessions[i] ?? 1, messages[i] ?? 0, BYTES, RUN_MS)));
    const acceptSeconds = (performance.now() - t0) / 1000;
    for (const r of runs) if (r.code !== 0) console.error(`${config} round ${round}: smtp-source exit ${r.code}: ${r.errors}`);
    const drained = await waitDelivered(sink, sink0 + N, Date.now() + DRAIN_MS);
    const drainSeconds = drained ? (performance.now() - t0) / 1000 : NaN;
    const result: RoundResult = {
      config, round, messages: N, acceptSeconds, drainSeconds, delivered: sink.count() - sink0, failedRuns: runs.filter((r) => r.code !== 0).length,
      lagMs: [], nodeCpuS: 0, loadStart, loadEnd: NaN,
    };
    if (poller && pool && pg0) {
      await poller.waitFor(N, Date.now() + LAG_WAIT_MS);
      result.lagMs = [...poller.seen.values()].map((x) => x.visibleAt - x.at);
      const backends = new Set([...pg0.keys(), ...(await backendsOf(pool, trees(roots), PG_PORT))]);
      result.pgCpuS = cpuSeconds(pg0, sample([...backends]));
      result.traceRows = await rowsPresent(pool, [...poller.seen.keys()]);
    }
    result.nodeCpuS = cpuSeconds(cpu0, sample(trees(roots)));
    result.loadEnd = loadavg()[0] ?? NaN;
    return result;
  } finally {
    await poller?.stop();
  }
}

/** (a) one node, its configuration in its own SQLite file. */
async function single(sink: CountingSink, round: number): Promise<RoundResult> {
  const dir = tempDir('mailgate-fbench-sqlite-');
  live.dirs.add(dir);
  const port = await freePort();
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    new SqliteConfigStore(db).saveNow(validateConfig(benchConfig('off', port, sink.port, SENDER_DOMAIN)), 'bench', 'fleet bench (off)');
  } finally {
    db.close();
  }
  const gw = await serve(dir, port);
  try {
    await warm(sink, [port]);
    return await load(sink, 'sqlite-1', round, [{ port, gw, name: 'single' }]);
  } finally {
    await stopAll([gw], [dir]);
  }
}

/** (b) `count` nodes sharing one new PostgreSQL schema (configuration and trace). */
async function fleet(sink: CountingSink, round: number, count: number): Promise<RoundResult> {
  const schema = `mg_bench_fleet_${process.pid}_${round}_${count}`;
  live.schemas.add(schema);
  const names = ['fleet-a', 'fleet-b'].slice(0, count);
  const nodes = await Promise.all(names.map(async (name) => ({ name, dir: tempDir(`mailgate-fbench-${name}-`), port: await freePort() })));
  for (const n of nodes) {
    live.dirs.add(n.dir);
    const r = cli(n.dir, ['init', '--store', URL_, '--schema', schema]);
    if (r.code !== 0) throw new Error(`init ${n.name}: ${r.stderr}`);
  }
  const pool = openPool({ url: URL_, schema, max: 2 });
  const gws: Gateway[] = [];
  try {
    const cfg = validateConfig(benchConfig('off', nodes[0]?.port ?? 0, sink.port, SENDER_DOMAIN));
    await new PgConfigStore({ pool, url: URL_, schema }).save(cfg, 'bench', 'fleet bench (off)');
    const up: { port: number; gw: Gateway; name: string }[] = [];
    for (const n of nodes) {
      const gw = await serve(n.dir, n.port, ['--node', n.name, '--listen', `mx=127.0.0.1:${n.port}`]);
      gws.push(gw);
      up.push({ port: n.port, gw, name: n.name });
    }
    await warm(sink, nodes.map((n) => n.port));
    return await load(sink, count === 2 ? 'postgres-2' : 'postgres-1', round, up, pool);
  } finally {
    await stopAll(gws, nodes.map((n) => n.dir));
    await pool.end();
  }
}

const RUNNERS: Record<BenchConfig, (sink: CountingSink, round: number) => Promise<RoundResult>> = {
  'sqlite-1': single,
  'postgres-1': (sink, round) => fleet(sink, round, 1),
  'postgres-2': (sink, round) => fleet(sink, round, 2),
};

function git(): string {
  const r = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', ROOT, 'diff', '--quiet']).status === 0 ? '' : '+dirty';
  return `${r.stdout.trim()}${dirty}`;
}

async function main(): Promise<void> {
  if (!haveTools()) {
    console.error('needs smtp-source and smtp-sink (Debian postfix; ../shared/bench-peers/00-install-system.sh)');
    process.exit(2);
  }
  const startLoad = la();
  console.error(`fleet-smtp: ${N} messages, ${C} sessions, ${ROUNDS} rounds, serve --workers ${WORKERS}, ${cpus().length} cores, load average ${startLoad}`);
  const results: RoundResult[] = [];
  try {
    live.sink = await startCountingSink(await freePort());
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? CONFIGS : [...CONFIGS].reverse();
      for (const config of order) {
        const r = await RUNNERS[config](live.sink, round);
        results.push(r);
        const lag = [...r.lagMs].sort((x, y) => x - y);
        console.error(
          `round ${round} ${r.config}: accepted ${(N / r.acceptSeconds).toFixed(0)} msg/s, drained ${(N / r.drainSeconds).toFixed(0)} msg/s, delivered ${r.delivered}/${N}` +
            (lag.length ? `, lag p50 ${pct(lag, 50)} p95 ${pct(lag, 95)} max ${lag[lag.length - 1]} ms (${lag.length} msgs)` : '') +
            `, CPU ${r.nodeCpuS.toFixed(1)} s nodes${r.pgCpuS === undefined ? '' : ` + ${r.pgCpuS.toFixed(1)} s PostgreSQL`}, load ${r.loadStart.toFixed(2)} → ${r.loadEnd.toFixed(2)}`,
        );
      }
    }
  } finally {
    await cleanup();
  }
  const endLoad = la();
  const sums = CONFIGS.map((c) => summarise(results, c));
  const base = sums[0];
  console.log(`load average (1/5/15 min): ${startLoad} at the start, ${endLoad} at the end; ${cpus().length} cores; git ${git()}`);
  console.log(`${N} messages per run over ${C} sessions (two nodes: half each), ${ROUNDS} rounds, serve --workers ${WORKERS}; medians of the rounds`);
  console.log(table(sums));
  console.log(
    JSON.stringify({
      bench: 'fleet-smtp', git: git(), messages: N, sessions: C, rounds: ROUNDS, workers: WORKERS, bytes: BYTES, cores: cpus().length,
      loadavg: { start: startLoad, end: endLoad }, configs: sums,
      ratios: Object.fromEntries(sums.slice(1).map((x) => [`${x.config}/${base?.config}`, { accepted: x.acceptedPerSec / (base?.acceptedPerSec ?? NaN), drained: x.drainedPerSec / (base?.drainedPerSec ?? NaN) }])),
      runs: results.map(({ lagMs, ...r }) => ({ ...r, lagMessages: lagMs.length })),
    }),
  );
}

await main();
