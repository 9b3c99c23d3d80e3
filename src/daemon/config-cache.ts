/**
 * @module daemon/config-cache
 * A fleet node's copy of the last configuration version it ran, in its data directory, so a node
 * that starts while PostgreSQL is away still starts (on that version) instead of leaving its MX
 * dark; the watch loads the store's newest version once it answers. Written whole and atomically
 * (temp file, fsync, rename), 0600: it holds the users' password hashes, like the SQLite store.
 * Touches: <data>/config-cache.json.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { configToYaml, parseConfigText, type Config } from '../config/index.ts';

export const CONFIG_CACHE = 'config-cache.json';

/** Keep `config` (as stored, before this node's overrides) as the version to start on. */
export function writeConfigCache(dir: string, version: number, config: Readonly<Config>): void {
  const file = join(dir, CONFIG_CACHE);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify({ version, yaml: configToYaml(config as Config) }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** The cached version, or undefined when there is none (or it cannot be read: then there is nothing to start on). */
export function readConfigCache(dir: string): { version: number; config: Config } | undefined {
  try {
    const o = JSON.parse(readFileSync(join(dir, CONFIG_CACHE), 'utf8')) as { version?: unknown; yaml?: unknown };
    if (typeof o.version !== 'number' || typeof o.yaml !== 'string') return undefined;
    return { version: o.version, config: parseConfigText(o.yaml, `${CONFIG_CACHE} (version ${o.version})`, { stored: true }) };
  } catch {
    return undefined;
  }
}
