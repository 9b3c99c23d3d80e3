/**
 * @module stores/postgres/trace-schema
 * The fleet's trace tables in PostgreSQL: trace_message (one row per message id, every row
 * carrying its node) and trace_event (keyed by node + the writer's sequence, so a retried outbox
 * batch never duplicates), each range-partitioned per UTC day on its time (received_at, at: ms
 * epoch). BRIN on time (rows arrive in time order, so a few pages summarise a day), B-tree on the
 * search keys (sender, client IP, Message-ID, attribution/status/connector). Partitions are
 * created ahead (today..+2 days) and on demand for a batch's days (imports carry old dates);
 * retention drops whole days. Text keys compared by range (id, client_ip) use the C collation,
 * so ordering and CIDR prefix ranges match SQLite's byte order.
 * Touches: DDL in the given schema.
 */
import type { PoolClient } from 'pg';

export const DAY_MS = 86_400_000;

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** DDL of the parent tables and their indexes (idempotent). */
export function traceDdl(schema: string): string {
  const s = ident(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.trace_message (
  node TEXT NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  connection_id TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  client_ip TEXT COLLATE "C" NOT NULL,
  client_port INTEGER,
  helo TEXT,
  listener TEXT NOT NULL,
  tls_version TEXT,
  tls_cipher TEXT,
  cert_subject TEXT,
  auth_user TEXT,
  mail_from TEXT,
  header_from TEXT,
  recipients TEXT NOT NULL,
  rcpt_count INTEGER NOT NULL,
  subject TEXT,
  size BIGINT,
  internet_message_id TEXT,
  attribution TEXT,
  connector TEXT,
  connector_type TEXT,
  connector_matched_by TEXT,
  status TEXT NOT NULL,
  reply TEXT,
  reasons TEXT,
  source TEXT,
  spf TEXT,
  dkim TEXT,
  dmarc TEXT,
  arc TEXT,
  compauth TEXT,
  updated_at BIGINT NOT NULL,
  cert_cn TEXT,
  cert_sans TEXT,
  cert_verified SMALLINT,
  spoof_suspect SMALLINT,
  dns_lookups INTEGER,
  import_key TEXT,
  import_name TEXT,
  exo_verdicts TEXT,
  PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX IF NOT EXISTS trace_message_at_brin ON ${s}.trace_message USING brin (received_at);
CREATE INDEX IF NOT EXISTS trace_message_mail_from ON ${s}.trace_message (lower(mail_from));
CREATE INDEX IF NOT EXISTS trace_message_client_ip ON ${s}.trace_message (client_ip, received_at);
CREATE INDEX IF NOT EXISTS trace_message_msgid ON ${s}.trace_message (internet_message_id);
CREATE INDEX IF NOT EXISTS trace_message_attribution ON ${s}.trace_message (attribution, received_at);
CREATE INDEX IF NOT EXISTS trace_message_status ON ${s}.trace_message (status, received_at);
CREATE INDEX IF NOT EXISTS trace_message_connector ON ${s}.trace_message (connector, received_at);
CREATE INDEX IF NOT EXISTS trace_message_source ON ${s}.trace_message (source, received_at);
CREATE TABLE IF NOT EXISTS ${s}.trace_event (
  node TEXT NOT NULL,
  seq BIGINT NOT NULL,
  message_id TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL,
  event TEXT NOT NULL,
  recipient TEXT,
  detail TEXT,
  PRIMARY KEY (node, seq, at)
) PARTITION BY RANGE (at);
CREATE INDEX IF NOT EXISTS trace_event_message ON ${s}.trace_event (message_id, at);
CREATE INDEX IF NOT EXISTS trace_event_at_brin ON ${s}.trace_event USING brin (at);
-- Events written without a writer's sequence (imports) take negative numbers: never an outbox's.
CREATE SEQUENCE IF NOT EXISTS ${s}.trace_event_local_seq;
`;
}

/** The role hunts run as (cluster-wide, NOLOGIN): it may read the trace tables and nothing else. */
export const HUNT_ROLE = 'mailgate_hunt';

/**
 * Create the hunt role when missing and let it read this schema's trace tables (partitions are
 * read through them). A user without CREATEROLE gets a notice instead: hunts are then refused
 * with the command that creates the role.
 */
export function huntRoleDdl(schema: string): string {
  const s = ident(schema);
  return `
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${HUNT_ROLE}') THEN
    CREATE ROLE ${HUNT_ROLE} NOLOGIN;
  END IF;
  GRANT ${HUNT_ROLE} TO CURRENT_USER;
  GRANT USAGE ON SCHEMA ${s} TO ${HUNT_ROLE};
  GRANT SELECT ON ${s}.trace_message, ${s}.trace_event TO ${HUNT_ROLE};
EXCEPTION
  WHEN insufficient_privilege OR duplicate_object OR unique_violation THEN
    RAISE NOTICE 'mailgate: hunt role ${HUNT_ROLE} not set up (%); hunts stay refused until it is', SQLERRM;
END
$$;`;
}

/** YYYYMMDD of the UTC day holding `ms`. */
export const dayName = (ms: number): string => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '');

/** The partition tables of one day (messages and events). */
export const partitionsOf = (day: number): [string, string] => [`trace_message_p${dayName(day * DAY_MS)}`, `trace_event_p${dayName(day * DAY_MS)}`];

/**
 * Create the partitions of the given UTC days (day numbers: ms / DAY_MS) that are missing, in
 * their own short transaction under an advisory lock (several nodes create the same day).
 */
export async function createDayPartitions(c: PoolClient, schema: string, days: Iterable<number>): Promise<void> {
  const s = ident(schema);
  await c.query('BEGIN');
  try {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${schema}.trace_partitions`]);
    for (const d of new Set(days)) {
      const [m, e] = partitionsOf(d);
      const from = d * DAY_MS;
      const to = from + DAY_MS;
      await c.query(`CREATE TABLE IF NOT EXISTS ${s}.${ident(m)} PARTITION OF ${s}.trace_message FOR VALUES FROM (${from}) TO (${to})`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${s}.${ident(e)} PARTITION OF ${s}.trace_event FOR VALUES FROM (${from}) TO (${to})`);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Day numbers (UTC) whose partitions exist, of one parent table. */
export async function existingDays(c: PoolClient, schema: string, parent: 'trace_message' | 'trace_event'): Promise<number[]> {
  const r = await c.query<{ name: string }>(
    `SELECT child.relname AS name FROM pg_inherits i
       JOIN pg_class child ON child.oid = i.inhrelid
       JOIN pg_class par ON par.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = par.relnamespace
      WHERE n.nspname = $1 AND par.relname = $2`,
    [schema, parent],
  );
  const out: number[] = [];
  for (const { name } of r.rows) {
    const m = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
    if (m) out.push(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS);
  }
  return out.sort((a, b) => a - b);
}
