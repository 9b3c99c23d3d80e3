/**
 * @module config/nodes
 * The fleet's nodes as the configuration store sees them: each queue owner reports a heartbeat
 * (its name, release, the configuration version in force, queue depth) every few seconds, so
 * `node list` and the alerts can tell a node that stopped reporting or lags on configuration.
 * An interface here; the SQL is in stores/ (SQLite for one node, PostgreSQL for a fleet).
 * Touches: nothing itself.
 */

/** One node's last heartbeat. Times are epoch ms on the store's clock. */
export interface NodeStatus {
  name: string;
  softwareVersion: string;
  /** The configuration version in force on the node. */
  configVersion: number;
  /** Messages in the node's queue not yet delivered or bounced. */
  queueDepth: number;
  startedAt: number;
  lastSeen: number;
}

export type Heartbeat = Omit<NodeStatus, 'lastSeen'>;

export interface NodeStore {
  /** Record (insert or replace) a node's heartbeat, stamped with the store's clock. */
  heartbeat(h: Heartbeat): Promise<void>;
  /** Every node that ever reported, by name, and the store's clock now (ages compare with it, not with this host's clock). */
  list(): Promise<{ nodes: NodeStatus[]; now: number }>;
  /** Forget a node (decommissioned); false when there was none. */
  remove(name: string): Promise<boolean>;
}

/** A node's name when `serve --node` gives none: the host name's first label. */
export function defaultNodeName(host: string): string {
  return host.split('.')[0] || 'mailgate';
}

/** How often the queue owner reports. */
export const HEARTBEAT_MS = 5_000;
/** The fleet's facts for alerts: the nodes, the store's clock, and the newest version with when it was saved. */
export interface FleetFacts {
  nodes: NodeStatus[];
  now: number;
  configVersion: number;
  configSavedAt: number;
}
