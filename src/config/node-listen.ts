/**
 * @module config/node-listen
 * A node's view of the shared configuration: the receive connectors (or `admin`) it binds
 * elsewhere, from the configuration's `nodes` entry for it and then its `--listen` flags (which
 * win), applied to a copy; the stored configuration is never changed. Validation runs the loop and
 * overlap checks on every node's view, as a node would bind it.
 * Touches: nothing.
 */
import type { Config } from './schema.ts';

export interface ListenOverride {
  name: string;
  host: string;
  port: number;
}

/** The `nodes` entry of `config` for node `name` (case-insensitive) as overrides. */
export function configuredOverrides(config: Config, name: string): ListenOverride[] {
  const entry = config.nodes.find((n) => n.name.toLowerCase() === name.toLowerCase());
  return (entry?.listen ?? []).map((l) => ({ name: l.listener, host: l.bind, port: l.port }));
}

/** `config` with these listener addresses (a copy when anything changes). */
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
