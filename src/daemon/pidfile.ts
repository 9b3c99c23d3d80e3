/**
 * @module daemon/pidfile
 * `<data>/serve.pid`: the PID of the `mailgate serve` that owns a data directory (the primary),
 * written once it has opened the directory and removed at a clean stop. `restore` reads it to
 * refuse a live directory; a file left by a killed serve names a PID that is gone (or is no
 * longer a mailgate), so it does not count.
 * Touches: `<data>/serve.pid`; reads /proc/<pid>/cmdline where there is one.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NAME = 'serve.pid';

/** Write this process's PID into `dir`; returns the function that removes the file. */
export function writePidFile(dir: string): () => void {
  const file = join(dir, NAME);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    } catch {
      /* already gone */
    }
  };
}

/** The PID of a live `mailgate serve` on `dir`, or undefined. */
export function liveServePid(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, NAME), 'utf8').trim());
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
