/**
 * @module daemon/node-overrides
 * `serve --listen NAME=HOST:PORT` (repeatable): parsed, and checked against the receive
 * connectors; config/node-listen applies them (after the configuration's `nodes` entry for this
 * node, so the command line wins).
 * Touches: nothing.
 */
import type { Config, ListenOverride } from '../config/index.ts';

/** Parse `NAME=HOST:PORT` (`[v6]:PORT` for IPv6); throws an Error saying what is wrong. */
export function parseListen(spec: string): ListenOverride {
  const m = /^([A-Za-z0-9][A-Za-z0-9 ._-]*)=(\[[0-9A-Fa-f:.]+\]|[^:\s]+):(\d{1,5})$/.exec(spec);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`--listen ${JSON.stringify(spec)}: use NAME=HOST:PORT, e.g. mx=127.0.0.1:6525`);
  const host = (m[2] as string).replace(/^\[(.*)\]$/, '$1');
  return { name: m[1] as string, host, port };
}

/** Names in `overrides` that match neither a receive connector of `config` nor `admin`. */
export function unknownOverrides(config: Config, overrides: readonly ListenOverride[]): string[] {
  const names = new Set(config.receiveConnectors.map((l) => l.name.toLowerCase()));
  return overrides.filter((o) => o.name.toLowerCase() !== 'admin' && !names.has(o.name.toLowerCase())).map((o) => o.name);
}
