/**
 * @module stores/sqlite/node-store
 * Node heartbeats in the embedded SQLite database: on one node `node list` shows that node; the
 * same table shape as the PostgreSQL store's (migrations/0001-config.ts).
 * Touches: the node table of the SQLite database it is given (it does not own the handle).
 */
import type { Db } from '../../core/sqlite.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { Heartbeat, NodeStatus, NodeStore } from '../../config/nodes.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS node (
  name TEXT PRIMARY KEY,
  software_version TEXT NOT NULL,
  config_version INTEGER NOT NULL,
  queue_depth INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
)`;

interface Row {
  name: string;
  software_version: string;
  config_version: number;
  queue_depth: number;
  started_at: number;
  last_seen: number;
}

export class SqliteNodeStore implements NodeStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {
    db.exec(SCHEMA);
  }

  async heartbeat(h: Heartbeat): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO node (name, software_version, config_version, queue_depth, started_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET software_version = excluded.software_version, config_version = excluded.config_version,
           queue_depth = excluded.queue_depth, started_at = excluded.started_at, last_seen = excluded.last_seen`,
      )
      .run(h.name, h.softwareVersion, h.configVersion, h.queueDepth, h.startedAt, this.clock.now());
  }

  async list(): Promise<{ nodes: NodeStatus[]; now: number }> {
    const rows = this.db.prepare('SELECT * FROM node ORDER BY name').all() as Row[];
    return { nodes: rows.map(toStatus), now: this.clock.now() };
  }

  async remove(name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM node WHERE name = ?').run(name).changes > 0;
  }
}

function toStatus(r: Row): NodeStatus {
  return { name: r.name, softwareVersion: r.software_version, configVersion: r.config_version, queueDepth: r.queue_depth, startedAt: r.started_at, lastSeen: r.last_seen };
}
