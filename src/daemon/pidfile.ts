/**
 * @module daemon/pidfile
 * `<data>/serve.pid`: the PID of the `mailgate serve` that owns a data directory (the primary),
 * written once it has opened the directory and removed at a clean stop. `restore` reads it to
 * refuse a live directory; a file left by a killed serve names a PID that is gone (or is no
 * longer a mailgate), so it does not count.
 * Whether such a PID is live is core/serve-pid (ops/ asks it too).
 * Touches: `<data>/serve.pid`.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVE_PID_FILE as NAME } from '../core/serve-pid.ts';

export { liveServePid } from '../core/serve-pid.ts';

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
