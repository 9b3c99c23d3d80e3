/**
 * @module stores/postgres/migrations/0002-trace
 * The fleet's trace tables: trace_message and trace_event, range-partitioned per UTC day, with
 * their indexes (stores/postgres/trace-schema.ts holds the DDL; partitions are created by writers
 * and maintenance, not here), and the read-only role hunts run as (trace tables only).
 * Touches: DDL in the mailgate schema.
 */
import { huntRoleDdl, traceDdl } from '../trace-schema.ts';
import type { Migration } from './types.ts';

export const m0002Trace: Migration = {
  version: 2,
  name: 'trace',
  async up(c) {
    const r = await c.query<{ s: string }>('SELECT current_schema() AS s');
    const schema = r.rows[0]?.s;
    if (!schema) throw new Error('0002-trace: no current schema (search_path unset)');
    await c.query(traceDdl(schema));
    await c.query(huntRoleDdl(schema));
  },
};
