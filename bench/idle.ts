/**
 * @module bench/idle
 * Load (3): opens N connections to the target and holds them idle (no command after the banner)
 * for HOLD seconds while the throughput load runs, then closes them. Records the resident memory
 * of the target's whole process tree (sum of VmRSS over the root PID and its descendants, from
 * /proc) before opening, once every connection is open, its peak while held, and after closing.
 * Writes READY_FILE once every connection is open (the harness starts load (1) then).
 * Prints one CSV row:
 *   target,round,wanted,opened,banners,rss_before_kb,rss_open_kb,rss_peak_kb,rss_after_kb,extra_mb,open_s
 * usage: node --import tsx bench/idle.ts --port P --pid ROOTPID [-n 1000] [--hold 30] [--ready FILE]
 * Touches: TCP connections to 127.0.0.1:P; reads /proc.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';

/** The PIDs of `root` and all its live descendants. */
export function treePids(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(rest[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const inTree = new Set<number>([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) if (!inTree.has(pid) && inTree.has(ppid)) (inTree.add(pid), (grew = true));
  }
  return [...inTree].filter((p) => parent.has(p));
}

/** Sum of VmRSS (kB) over the tree. */
export function treeRssKb(root: number): number {
  let kb = 0;
  for (const pid of treePids(root)) {
    try {
      const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      port: { type: 'string' },
      pid: { type: 'string' },
      n: { type: 'string', short: 'n', default: '1000' },
      hold: { type: 'string', default: '30' },
      ready: { type: 'string' },
      target: { type: 'string', default: '?' },
      round: { type: 'string', default: '1' },
    },
  });
  const port = Number(a.port);
  const root = Number(a.pid);
  const n = Number(a.n);
  const before = treeRssKb(root);
  const socks: net.Socket[] = [];
  let opened = 0;
  let banners = 0;
  const t0 = Date.now();
  // Open in batches of 100 so the listen backlog is not the thing measured.
  for (let i = 0; i < n; i += 100) {
    const batch: Array<Promise<void>> = [];
    for (let j = i; j < Math.min(n, i + 100); j++) {
      batch.push(
        new Promise<void>((resolve) => {
          const s = net.connect({ port, host: '127.0.0.1' });
          s.once('connect', () => (opened++, resolve()));
          s.once('error', () => resolve());
          s.once('data', () => banners++);
          s.on('error', () => undefined);
          setTimeout(resolve, 5000).unref();
          socks.push(s);
        }),
      );
    }
    await Promise.all(batch);
  }
  await sleep(2000); // let the target settle the new sessions (banners, per-connection state)
  const openS = (Date.now() - t0) / 1000;
  const atOpen = treeRssKb(root);
  if (a.ready) writeFileSync(a.ready, `${opened}\n`);
  let peak = atOpen;
  const until = t0 + Number(a.hold) * 1000;
  while (Date.now() < until) {
    await sleep(500);
    peak = Math.max(peak, treeRssKb(root));
  }
  for (const s of socks) s.destroy();
  await sleep(1000);
  const after = treeRssKb(root);
  const extraMb = (atOpen - before) / 1024;
  console.log([a.target, a.round, n, opened, banners, before, atOpen, peak, after, extraMb.toFixed(1), openS.toFixed(1)].join(','));
}

void main();
