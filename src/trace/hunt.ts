/**
 * @module trace/hunt
 * Read-only SQL hunting over the trace (`mailgate report hunt`), Defender advanced hunting's
 * counterpart (reference §6.3). Guards, each enough on its own to stop a write:
 * 1. the query is at most HUNT_MAX_QUERY characters and starts with SELECT or WITH;
 * 2. exactly one statement: better-sqlite3's prepare() refuses a string holding more than one
 *    ("SELECT 1; DELETE …");
 * 3. the prepared statement must return rows (`stmt.reader`) and be read-only per SQLite
 *    (`stmt.readonly`, sqlite3_stmt_readonly) — this refuses INSERT/UPDATE/DELETE, WITH … DELETE,
 *    PRAGMA writes, ATTACH (reader false), VACUUM, ANALYZE;
 * 4. the connection is opened read-only (SQLITE_OPEN_READONLY) with `PRAGMA query_only = 1`;
 *    load_extension() is not authorised in better-sqlite3;
 * 5. the statement may read only the trace tables (trace/hunt-scope: its bytecode's opened
 *    b-trees), never the configuration versions with the users' password hashes, or the queue.
 * Limits: a row limit (the rest is reported as truncated) and a time limit. better-sqlite3 has no
 * sqlite3_interrupt and a worker_thread cannot be stopped while it is inside one long native
 * sqlite3_step (terminate() only takes effect when control returns to JavaScript, and process
 * exit would then wait for the thread), so the query runs in a child process (this same file,
 * forked) that is SIGKILLed at the time limit: the only stop that is immediate whatever SQLite
 * is doing.
 * Saved queries (SAVED_HUNTS): no-connector-dmarc-fail, direct-send-external,
 * new-anonymous-sources, spoof-suspects; each documented where it is defined. Lists inside a row
 * (senders, HELO names) are sorted, so a fleet's PostgreSQL text of the same hunt
 * (stores/postgres/trace-saved-hunts) gives the same rows.
 * Touches: reads the SQLite file (read-only connection, in a child process it starts and kills).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../core/sqlite.ts';
import { DIRECT_SEND_REPLY_LIKE } from './reports/common.ts';
import { huntScopeProblem } from './hunt-scope.ts';

export const HUNT_MAX_QUERY = 4000;
export const HUNT_DEFAULT_LIMIT = 1000;
export const HUNT_MAX_LIMIT = 100_000;
export const HUNT_DEFAULT_TIMEOUT_MS = 10_000;

/** A query refused by a guard (the CLI exits 2). */
export class HuntRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HuntRefused';
  }
}

export interface HuntResult {
  columns: string[];
  rows: Record<string, unknown>[];
  /** True when more rows matched than the limit. */
  truncated: boolean;
  ms: number;
}

/** Default internal ranges as SQL over an `ip` column (IPv4-mapped IPv6 already stripped). */
const INTERNAL_SQL = `(ip LIKE '10.%' OR ip LIKE '127.%' OR ip LIKE '192.168.%'
   OR (ip LIKE '172.%' AND CAST(substr(ip, 5, instr(substr(ip, 5), '.') - 1) AS INTEGER) BETWEEN 16 AND 31)
   OR ip = '::1' OR lower(ip) LIKE 'fc%:%' OR lower(ip) LIKE 'fd%:%')`;
const WITH_IP = `WITH m AS (SELECT *, CASE WHEN client_ip LIKE '::ffff:%.%' THEN substr(client_ip, 8) ELSE client_ip END AS ip FROM trace_message)`;
const ANONYMOUS = `auth_user IS NULL AND (connector IS NULL OR connector = '')`;

/** The shipped hunts. Each covers the whole retained trace unless it says otherwise. */
export const SAVED_HUNTS: Readonly<Record<string, { description: string; sql: string }>> = Object.freeze({
  /** Messages no connector matched whose DMARC failed (Exchange: Connectors == "" and DMARC fail). */
  'no-connector-dmarc-fail': {
    description: 'messages matched by no connector whose DMARC result is fail, newest first',
    sql: `SELECT id, datetime(received_at / 1000, 'unixepoch') AS received, client_ip, mail_from, header_from, subject,
       attribution, spf, dkim, dmarc, status
FROM trace_message
WHERE (connector IS NULL OR connector = '') AND lower(dmarc) LIKE 'fail%'
ORDER BY received_at DESC`,
  },
  /** Direct Send (or 5.7.68 refusals) from clients outside RFC 1918, loopback and ULA, per source. */
  'direct-send-external': {
    description: 'direct-send sources outside the internal ranges (RFC 1918, loopback, ULA), per client IP and sender',
    sql: `${WITH_IP}
SELECT ip AS client_ip, lower(mail_from) AS sender, count(*) AS messages,
       datetime(min(received_at) / 1000, 'unixepoch') AS first_seen, datetime(max(received_at) / 1000, 'unixepoch') AS last_seen
FROM m
WHERE (attribution = 'direct-send' OR reply LIKE '${DIRECT_SEND_REPLY_LIKE}') AND NOT ${INTERNAL_SQL}
GROUP BY ip, lower(mail_from)
ORDER BY messages DESC, client_ip, sender`,
  },
  /** Client IPs that sent anonymously (no AUTH, no connector) and were first seen in the last 24 hours. */
  'new-anonymous-sources': {
    description: 'anonymous client IPs (no AUTH, no connector) first seen in the last 24 hours',
    sql: `SELECT client_ip, count(*) AS messages, group_concat(DISTINCT lower(mail_from) ORDER BY lower(mail_from)) AS senders,
       datetime(min(received_at) / 1000, 'unixepoch') AS first_seen, datetime(max(received_at) / 1000, 'unixepoch') AS last_seen
FROM trace_message
WHERE ${ANONYMOUS} AND attribution IN ('direct-send', 'anonymous-external')
GROUP BY client_ip
HAVING min(received_at) >= (CAST(strftime('%s', 'now') AS INTEGER) - 86400) * 1000
ORDER BY min(received_at) DESC`,
  },
  /** Anonymous mail using an accepted-domain sender that failed SPF and DMARC, per source. */
  'spoof-suspects': {
    description: 'direct-send sources whose mail failed SPF (fail/softfail) and DMARC, per client IP and sender',
    sql: `SELECT client_ip, lower(mail_from) AS sender, count(*) AS messages, sum(lower(dkim) LIKE 'pass%') AS dkim_pass,
       datetime(max(received_at) / 1000, 'unixepoch') AS last_seen, group_concat(DISTINCT helo ORDER BY helo) AS helo_names
FROM trace_message
WHERE ${ANONYMOUS} AND (attribution = 'direct-send' OR reply LIKE '${DIRECT_SEND_REPLY_LIKE}')
  AND (lower(spf) LIKE 'fail%' OR lower(spf) LIKE 'softfail%') AND lower(dmarc) LIKE 'fail%'
GROUP BY client_ip, lower(mail_from)
ORDER BY messages DESC, client_ip, sender`,
  },
});

/** Guard 1: length and leading keyword (comments and opening parentheses skipped). */
export function checkHuntText(sql: string): void {
  if (sql.length > HUNT_MAX_QUERY) throw new HuntRefused(`query refused: ${sql.length} characters, the limit is ${HUNT_MAX_QUERY}`);
  const head = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  if (head === '') throw new HuntRefused('query refused: empty query');
  if (!/^(select|with)\b/i.test(head)) throw new HuntRefused('query refused: only a single SELECT (or WITH … SELECT) statement is allowed');
}

type Db = ReturnType<typeof openDatabase>;

/** Guards 1-3 and 5 on a connection: returns the prepared statement or throws HuntRefused / the SQL error. */
export function prepareHunt(db: Db, sql: string): ReturnType<Db['prepare']> {
  checkHuntText(sql);
  let stmt: ReturnType<Db['prepare']>;
  try {
    stmt = db.prepare(sql);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/more than one statement/i.test(msg)) throw new HuntRefused('query refused: more than one statement (only a single SELECT is allowed)');
    throw e;
  }
  if (!stmt.reader || !stmt.readonly) throw new HuntRefused('query refused: only a single read-only SELECT is allowed (the statement would not just read rows)');
  const outOfScope = huntScopeProblem(db, sql);
  if (outOfScope) throw new HuntRefused(outOfScope);
  return stmt;
}

function cellValue(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return `x'${v.toString('hex')}'`;
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** Run a hunt in this process (the child calls this). */
export function runHuntSync(file: string, sql: string, limit: number): HuntResult {
  const started = Date.now();
  const db = openDatabase(file, { readonly: true });
  try {
    db.pragma('query_only = 1');
    const stmt = prepareHunt(db, sql);
    const columns = stmt.columns().map((c) => c.name);
    const rows: Record<string, unknown>[] = [];
    let truncated = false;
    for (const raw of stmt.raw(true).iterate() as IterableIterator<unknown[]>) {
      if (rows.length >= limit) {
        truncated = true;
        break;
      }
      rows.push(Object.fromEntries(columns.map((c, i) => [c, cellValue(raw[i])])));
    }
    return { columns, rows, truncated, ms: Date.now() - started };
  } finally {
    db.close();
  }
}

interface ChildRequest {
  file: string;
  sql: string;
  limit: number;
}
type ChildReply = { ok: true; result: HuntResult } | { ok: false; refused: boolean; message: string };

/**
 * Run a read-only hunt against the SQLite file `file` in a child process killed after
 * `timeoutMs`. Throws HuntRefused (guards, time limit) or an Error with SQLite's message.
 */
export async function runHunt(file: string, sql: string, opts: { limit?: number; timeoutMs?: number } = {}): Promise<HuntResult> {
  const limit = opts.limit ?? HUNT_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > HUNT_MAX_LIMIT) throw new HuntRefused(`row limit must be 1..${HUNT_MAX_LIMIT}`);
  const timeoutMs = opts.timeoutMs ?? HUNT_DEFAULT_TIMEOUT_MS;
  checkHuntText(sql); // cheap refusals without starting a process
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: process.execArgv,
    env: { ...process.env, MAILGATE_HUNT_CHILD: '1' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<HuntResult>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new HuntRefused(`query stopped: it ran longer than the time limit of ${timeoutMs} ms`))), timeoutMs);
    child.once('message', (m: ChildReply) =>
      finish(() => {
        if (m.ok) resolve(m.result);
        else reject(m.refused ? new HuntRefused(m.message) : new Error(m.message));
      }),
    );
    child.once('error', (e) => finish(() => reject(e)));
    child.once('exit', (code, sig) => finish(() => reject(new Error(`hunt process ended (${sig ?? code}) without an answer${stderr ? ': ' + stderr.trim() : ''}`))));
    child.send({ file, sql, limit } satisfies ChildRequest);
  });
}

/** The child side: answer one request, then exit. */
function serveChild(): void {
  process.once('message', (req: ChildRequest) => {
    let reply: ChildReply;
    try {
      reply = { ok: true, result: runHuntSync(req.file, req.sql, req.limit) };
    } catch (e) {
      reply = { ok: false, refused: e instanceof HuntRefused, message: e instanceof Error ? e.message : String(e) };
    }
    process.send?.(reply, () => process.exit(0));
  });
}

if (process.env.MAILGATE_HUNT_CHILD === '1' && process.send && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) serveChild();
