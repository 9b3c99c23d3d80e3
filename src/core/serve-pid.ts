/**
 * @module core/serve-pid
 * Whether a `mailgate serve` owns a data directory: `<data>/serve.pid` (written by daemon/pidfile)
 * names a live process that is still a mailgate serve. A file left by a killed serve names a PID
 * that is gone, or reused by something else, so it does not count. Asked by `restore` (refuse a
 * live directory) and by the CLI's audit import (import in chunks beside a running gateway).
 * Touches: reads `<data>/serve.pid` and /proc/<pid>/cmdline where there is one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVE_PID_FILE = 'serve.pid';

/** The PID of a live `mailgate serve` on `dir`, or undefined. */
export function liveServePid(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, SERVE_PID_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive, but another user's (the service account's): still live.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!cmd.includes('serve')) return undefined; // the PID was reused by something else
  } catch {
    /* no /proc (or not readable): trust kill(0) */
  }
  return pid;
}
