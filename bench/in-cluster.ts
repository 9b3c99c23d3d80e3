/**
 * @module bench/in-cluster
 * Runs a ceiling target of bench/run.sh (an SMTP server script that listens on its own) in N
 * node:cluster workers sharing its listening socket, kernel-balanced (SCHED_NONE), as mailgate's
 * `serve --workers N` runs its receive workers: so a ceiling uses the same cores as mailgate.
 * usage: node --import tsx bench/in-cluster.ts N SCRIPT [ARGS...]   (N 0 = one per core)
 * Touches: nothing itself; SIGTERM/SIGINT go to every worker, and it exits when all have.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [count, script, ...rest] = process.argv.slice(2);
if (!script) {
  console.error('usage: node --import tsx bench/in-cluster.ts N SCRIPT [ARGS...]');
  process.exit(2);
}
if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const n = Number(count) > 0 ? Number(count) : availableParallelism();
  for (let i = 0; i < n; i++) cluster.fork();
  let failed = 0;
  cluster.on('exit', (_w, code) => {
    if (code !== 0) failed++;
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed > 0 ? 1 : 0);
  });
  const stop = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  process.argv = [process.argv[0] ?? 'node', resolve(script), ...rest];
  await import(pathToFileURL(resolve(script)).href);
}
