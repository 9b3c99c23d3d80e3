/**
 * @module ops/nodes
 * The fleet view: every node that reported a heartbeat, with what an admin checks first — is it
 * reporting, and is it on the configuration version in force — for `mailgate node list` and
 * `GET /api/v1/nodes`, and the facts the fleet alerts read.
 * Touches: the node heartbeats and the configuration store (reads only).
 */
import type { ConfigStore, FleetFacts, NodeStatus, NodeStore } from '../config/index.ts';
import { NODE_SILENT_MS } from '../alerts/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

export type NodeState = 'up' | 'silent';

export interface NodeRow {
  name: string;
  state: NodeState;
  softwareVersion: string;
  configVersion: number;
  /** Versions behind the one in force (0: current). */
  configLag: number;
  queueDepth: number;
  lastSeen: string;
  /** Seconds since the last heartbeat, on the store's clock. */
  ageSeconds: number;
  startedAt: string;
}

/** Read the fleet's facts from the stores. */
export async function fleetFacts(nodes: NodeStore, store: ConfigStore): Promise<FleetFacts> {
  const [{ nodes: list, now }, cur] = await Promise.all([nodes.list(), store.history(1)]);
  return { nodes: list, now, configVersion: cur[0]?.version ?? 0, configSavedAt: cur[0]?.createdAt ?? 0 };
}

function row(n: NodeStatus, f: FleetFacts): NodeRow {
  const age = Math.max(0, f.now - n.lastSeen);
  return {
    name: n.name,
    state: age > NODE_SILENT_MS ? 'silent' : 'up',
    softwareVersion: n.softwareVersion,
    configVersion: n.configVersion,
    configLag: Math.max(0, f.configVersion - n.configVersion),
    queueDepth: n.queueDepth,
    lastSeen: new Date(n.lastSeen).toISOString(),
    ageSeconds: Math.round(age / 1000),
    startedAt: new Date(n.startedAt).toISOString(),
  };
}

/** Every node that reported, by name. */
export async function listNodes(ctx: OpsContext): Promise<NodeRow[]> {
  if (!ctx.nodes) throw new OpsError('unavailable', 'no node store in this context');
  const f = await fleetFacts(ctx.nodes, ctx.store);
  return f.nodes.map((n) => row(n, f));
}
