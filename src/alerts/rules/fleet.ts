/**
 * @module alerts/rules/fleet
 * Fleet alerts from the nodes' heartbeats (config/nodes.ts): a node that stopped reporting, and a
 * node still on an older configuration version well after a newer one was saved (it cannot load
 * it, or cannot reach the store). Ages are on the store's clock.
 * Touches: nothing (reads the facts in the rule context).
 */
import type { FleetFacts, NodeStatus } from '../../config/nodes.ts';
import type { Candidate, RuleContext } from '../types.ts';

/** A node not heard of for this long has stopped reporting (six heartbeats). */
export const NODE_SILENT_MS = 30_000;
/** A node still on an older version this long after a newer one was saved lags on configuration. */
export const CONFIG_LAG_MS = 30_000;

/** Nodes that stopped reporting, and reporting nodes on an older version `CONFIG_LAG_MS` after a newer one was saved. */
export function fleetProblems(f: FleetFacts): { silent: NodeStatus[]; lagging: NodeStatus[] } {
  const silent = f.nodes.filter((n) => f.now - n.lastSeen > NODE_SILENT_MS);
  const lagging = f.nodes.filter((n) => !silent.includes(n) && n.configVersion < f.configVersion && f.now - f.configSavedAt > CONFIG_LAG_MS);
  return { silent, lagging };
}

export function fleetNodes(ctx: RuleContext): Candidate[] {
  const f = ctx.fleet;
  if (!f) return [];
  const { silent, lagging } = fleetProblems(f);
  return [
    ...silent.map((n): Candidate => {
      const s = Math.round((f.now - n.lastSeen) / 1000);
      return { kind: 'node-silent', key: n.name, summary: `node ${n.name} has not reported for ${s} s`, detail: { node: n.name, lastSeen: new Date(n.lastSeen).toISOString(), seconds: s } };
    }),
    ...lagging.map((n): Candidate => ({
      kind: 'node-config-lag',
      key: `${n.name}:${f.configVersion}`,
      summary: `node ${n.name} runs configuration version ${n.configVersion}; version ${f.configVersion} was saved ${Math.round((f.now - f.configSavedAt) / 1000)} s ago`,
      detail: { node: n.name, inForce: n.configVersion, newest: f.configVersion },
    })),
  ];
}
