/**
 * @module bench/proc-cpu
 * CPU seconds of what a bench run started, from /proc: a process tree (a gateway and its workers),
 * and the PostgreSQL backends serving it (the server processes whose client sockets those
 * processes hold, matched through /proc/net/tcp and pg_stat_activity.client_port), so other
 * users of the same PostgreSQL are not counted. WAL writer and checkpointer are not in it.
 * Touches: reads /proc; one pg_stat_activity query.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { descendants, socketLinks, tcpSockets } from '../test/helpers/processes.ts';

const TICKS = 100; // USER_HZ on Linux

/** utime + stime of one process in ticks (0 when gone). */
function ticks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** The roots and every descendant of them. */
export function trees(roots: readonly number[]): number[] {
  return roots.flatMap((r) => [r, ...descendants(r)]);
}

/** CPU ticks per process of `pids`. */
export function sample(pids: readonly number[]): Map<number, number> {
  return new Map(pids.map((p) => [p, ticks(p)]));
}

/** Seconds of CPU between two samples (a process first seen in `after` counts from its start). */
export function cpuSeconds(before: Map<number, number>, after: Map<number, number>): number {
  let t = 0;
  for (const [pid, v] of after) t += v - (before.get(pid) ?? 0);
  return t / TICKS;
}

/** Local ports of the TCP connections `pids` hold to port `remote` on the loopback. */
function clientPorts(pids: readonly number[], remote: number): number[] {
  const inodes = new Set(pids.flatMap((pid) => socketLinks(pid).map((l) => l.slice(8, -1))));
  return tcpSockets()
    .filter((t) => inodes.has(t.inode) && t.remotePort === remote)
    .map((t) => t.localPort);
}

/** PIDs of the PostgreSQL backends whose clients are `pids` (the server on 127.0.0.1:`pgPort`). */
export async function backendsOf(pool: pg.Pool, pids: readonly number[], pgPort: number): Promise<number[]> {
  const ports = clientPorts(pids, pgPort);
  if (ports.length === 0) return [];
  const r = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports]);
  return r.rows.map((x) => x.pid);
}
