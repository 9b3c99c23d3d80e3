/**
 * @module daemon/fd-limit
 * Keeps connections from exhausting the open-file limit (EMFILE would then hit spool files, the
 * database and deliveries, not just new clients). JavaScript has no setrlimit(2); Node itself
 * raises the soft RLIMIT_NOFILE to the hard limit as it starts (PlatformInit in src/node.cc), and
 * where the soft limit is still lower (another runtime or an embedder that skips that), the gateway
 * raises it with util-linux `prlimit --pid <own pid>` (prlimit(2) on a process of the same user;
 * raising a soft limit up to the hard one needs no privilege). It then reads the limits in force
 * from /proc/self/limits, logs them, and clamps every listener's
 * `maxConnections` so that all listeners together fit: each connection may hold two descriptors
 * (its socket and, while a large message is written through, its spool file), after a reserve for
 * the store, the journal and the deliveries in flight. Anything clamped is logged as a warning.
 * Cluster workers inherit the primary's raised limit and compute their own budget (descriptors
 * are per process). Where prlimit is missing or refused, the soft limit stands and the systemd
 * unit should carry `LimitNOFILE=` (README).
 * Touches: /proc/self/limits, the prlimit binary (one child process at start).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from '../core/log.ts';
import type { Config } from '../config/schema.ts';

export interface FdLimits {
  soft: number;
  hard: number;
}

/** Descriptors kept free of connections: the store, journals, logs, plus two per delivery in flight. */
export function fdReserve(cfg: Pick<Config, 'queue'>): number {
  return 64 + 2 * cfg.queue.activeWindow;
}

/** RLIMIT_NOFILE of a process from /proc (Infinity for "unlimited"); undefined where /proc has none. */
export function readFdLimits(pid: number | 'self' = 'self'): FdLimits | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/limits`, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const num = (s: string | undefined): number => (s === 'unlimited' || s === undefined ? Infinity : Number(s));
  return { soft: num(m[1]), hard: num(m[2]) };
}

/** Raise this process's soft open-file limit to its hard limit; returns the limits in force after. */
export function raiseFdLimit(logger: Logger): FdLimits | undefined {
  const before = readFdLimits();
  if (before && (before.soft >= before.hard || !Number.isFinite(before.hard))) logger.info(before, 'open-file limit (RLIMIT_NOFILE)');
  if (!before || before.soft >= before.hard || !Number.isFinite(before.hard)) return before;
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${before.hard}:${before.hard}`], { encoding: 'utf8', timeout: 5000 });
  const after = readFdLimits() ?? before;
  if (after.soft > before.soft) logger.info({ from: before.soft, to: after.soft }, 'open-file limit (RLIMIT_NOFILE) raised to the hard limit');
  else {
    const why = r.error ? r.error.message : (r.stderr || `exit ${String(r.status)}`).trim();
    logger.warn({ soft: before.soft, hard: before.hard, why }, 'could not raise the open-file limit with prlimit; set LimitNOFILE= in the service unit');
  }
  return after;
}

/**
 * The most connections one listener may hold so that all of them fit in the soft limit, or
 * undefined when the configured `maxConnections` already fit. Logs a warning when it clamps.
 */
export function connectionCap(cfg: Pick<Config, 'queue' | 'receiveConnectors'>, limits: FdLimits | undefined, logger: Logger): number | undefined {
  if (!limits || !Number.isFinite(limits.soft) || cfg.receiveConnectors.length === 0) return undefined;
  const budget = Math.max(0, Math.floor((limits.soft - fdReserve(cfg)) / 2));
  const wanted = cfg.receiveConnectors.reduce((n, l) => n + l.maxConnections, 0);
  if (wanted <= budget) return undefined;
  const cap = Math.max(1, Math.floor(budget / cfg.receiveConnectors.length));
  logger.warn(
    { softLimit: limits.soft, reserve: fdReserve(cfg), configured: wanted, perListener: cap },
    'maxConnections clamped to fit the open-file limit (two descriptors per connection after the reserve); raise LimitNOFILE / ulimit -n to allow more',
  );
  return cap;
}
