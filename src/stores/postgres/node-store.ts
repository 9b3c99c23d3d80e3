/**
 * @module stores/postgres/node-store
 * The fleet's node heartbeats in PostgreSQL: one row per node, replaced at each heartbeat and
 * stamped with the server's clock, so a node with a wrong clock is neither hidden nor flagged.
 * Touches: the node table of the mailgate schema (migrations/0001-config.ts).
 */
import type { Heartbeat, NodeStatus, NodeStore } from '../../config/nodes.ts';
import type { PgPool } from './pool.ts';

const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

interface Row {
  name: string;
  software_version: string;
  config_version: string;
  queue_depth: number;
  started_at: string;
  last_seen: string;
}

export class PgNodeStore implements NodeStore {
  constructor(private readonly pool: PgPool) {}

  async heartbeat(h: Heartbeat): Promise<void> {
    await this.pool.query(
      `INSERT INTO node (name, software_version, config_version, queue_depth, started_at, last_seen) VALUES ($1, $2, $3, $4, $5, ${NOW_MS})
       ON CONFLICT (name) DO UPDATE SET software_version = excluded.software_version, config_version = excluded.config_version,
         queue_depth = excluded.queue_depth, started_at = excluded.started_at, last_seen = excluded.last_seen`,
      [h.name, h.softwareVersion, h.configVersion, h.queueDepth, h.startedAt],
    );
  }

  async list(): Promise<{ nodes: NodeStatus[]; now: number }> {
    const r = await this.pool.query<Row & { now: string }>(`SELECT *, ${NOW_MS} AS now FROM node ORDER BY name`);
    const now = r.rows[0] ? Number(r.rows[0].now) : Number((await this.pool.query<{ now: string }>(`SELECT ${NOW_MS} AS now`)).rows[0]?.now);
    return { nodes: r.rows.map(toStatus), now };
  }

  async remove(name: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM node WHERE name = $1', [name])).rowCount ?? 0) > 0;
  }
}

// BIGINT columns arrive as strings; versions and epoch ms fit a double exactly.
function toStatus(r: Row): NodeStatus {
  return { name: r.name, softwareVersion: r.software_version, configVersion: Number(r.config_version), queueDepth: r.queue_depth, startedAt: Number(r.started_at), lastSeen: Number(r.last_seen) };
}
