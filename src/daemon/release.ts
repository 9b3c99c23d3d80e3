/**
 * @module daemon/release
 * This mailgate's release version, read from its package.json (the same file from src/ and from
 * dist/, both two levels below the package root), for `--version`, backups and migration records.
 * Touches: reads package.json once.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The `version` field of mailgate's package.json. */
export function releaseVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  }
  return cached;
}
