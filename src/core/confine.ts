/**
 * @module core/confine
 * Paths a configuration names for mailgate to write into are confined to the data dir: a relative
 * path must stay below it (no `..` out of it, not the data dir itself) and an absolute one must be
 * explicitly allowed (so `pickupDir: ../../../../etc/cron.d` is refused at load). Symbolic links
 * inside the data dir are the data dir owner's own business and are not resolved here.
 * Touches: nothing (pure path arithmetic).
 */
import { isAbsolute, normalize } from 'node:path';

/** Why `dir` may not be written to, or undefined when it may. */
export function confinedDirProblem(dir: string, outsideAllowed: boolean, allowSetting: string): string | undefined {
  if (dir.includes('\0')) return 'must not contain a NUL character';
  if (isAbsolute(dir)) return outsideAllowed ? undefined : `an absolute path needs ${allowSetting}: true`;
  const n = normalize(dir);
  if (n === '.' || n === './' || n === '..' || n.startsWith('../')) {
    return `must be a folder inside the data dir (got "${dir}"); a folder elsewhere must be absolute, with ${allowSetting}: true`;
  }
  return undefined;
}
