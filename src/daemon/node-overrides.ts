/**
 * @module daemon/node-overrides
 * What one node changes in the shared configuration for itself: `--listen NAME=HOST:PORT`
 * (repeatable) or the configuration's own `nodes` entry for this node moves the receive
 * connector NAME (or `admin`, the admin listener) to another address on this node only, so
 * several nodes run on one host. The command line wins over the entry. Applied to a copy of
 * every version before it is compiled; the stored configuration is never changed.
 * Touches: nothing.
 */
import type { Config } from '../config/index.ts';

export interface ListenOverride {
  name: string;
  host: string;
  port: number;
}

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

/** The `nodes` entry of `config` for node `name` (case-insensitive) as overrides. */
export function configuredOverrides(config: Config, name: string): ListenOverride[] {
  const entry = config.nodes.find((n) => n.name.toLowerCase() === name.toLowerCase());
  return (entry?.listen ?? []).map((l) => ({ name: l.listener, host: l.bind, port: l.port }));
}

/** `config` with this node's listener addresses (a copy when anything changes). */
export function applyOverrides(config: Config, overrides: readonly ListenOverride[]): Config {
  if (overrides.length === 0) return config;
  const out = structuredClone(config);
  for (const o of overrides) {
    const l = out.receiveConnectors.find((x) => x.name.toLowerCase() === o.name.toLowerCase());
    if (l) {
      l.bind = o.host;
      l.port = o.port;
    } else if (o.name.toLowerCase() === 'admin') {
      out.admin.bind = o.host.includes(':') ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`;
    }
  }
  return out;
}
