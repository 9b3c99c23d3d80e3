/**
 * @module stores/sqlite/alert-store
 * The alerts of one node in its SQLite file (alerts/store.ts says what is kept): one row per kind
 * and key while it is open, a partial unique index keeping it so. One process writes (the queue
 * owner's engine; CLI and API only acknowledge), so reads and writes need no locking.
 * Touches: the SQLite tables alert and alert_meta of the database it is given (it does not own the handle).
 */
import type { Db } from '../../core/sqlite.ts';
import type { AlertKind, AlertRow, AlertStore, Candidate, NotifyClaim } from '../../alerts/index.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT NOT NULL,
  key         TEXT NOT NULL,
  summary     TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  first_at    INTEGER NOT NULL,
  last_at     INTEGER NOT NULL,
  count       INTEGER NOT NULL DEFAULT 1,
  state       TEXT NOT NULL CHECK (state IN ('open','acked')),
  acked_by    TEXT,
  acked_at    INTEGER,
  notified_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS alert_open ON alert (kind, key) WHERE state = 'open';
CREATE TABLE IF NOT EXISTS alert_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

interface Raw {
  id: number;
  kind: AlertKind;
  key: string;
  summary: string;
  detail_json: string;
  first_at: number;
  last_at: number;
  count: number;
  state: 'open' | 'acked';
  acked_by: string | null;
  acked_at: number | null;
  notified_at: number | null;
}

const fromRaw = (r: Raw): AlertRow => ({
  id: r.id,
  kind: r.kind,
  key: r.key,
  summary: r.summary,
  detail: JSON.parse(r.detail_json) as Record<string, unknown>,
  firstAt: r.first_at,
  lastAt: r.last_at,
  count: r.count,
  state: r.state,
  ackedBy: r.acked_by ?? undefined,
  ackedAt: r.acked_at ?? undefined,
  notifiedAt: r.notified_at ?? undefined,
});

export class SqliteAlertStore implements AlertStore {
  constructor(private readonly db: Db) {
    db.exec(SCHEMA);
  }

  async raise(c: Candidate, now: number, quietMs = 0): Promise<AlertRow | undefined> {
    const acked = this.db.prepare(`SELECT MAX(acked_at) AS t FROM alert WHERE kind = ? AND key = ? AND state = 'acked'`).get(c.kind, c.key) as { t: number | null };
    if (acked.t !== null && (c.seenAt !== undefined ? c.seenAt <= acked.t : now - acked.t < quietMs)) {
      const open = this.db.prepare(`SELECT 1 FROM alert WHERE kind = ? AND key = ? AND state = 'open'`).get(c.kind, c.key);
      if (open === undefined) return undefined;
    }
    const open = this.db.prepare(`SELECT * FROM alert WHERE kind = ? AND key = ? AND state = 'open'`).get(c.kind, c.key) as Raw | undefined;
    if (open) {
      this.db.prepare(`UPDATE alert SET last_at = ?, count = count + 1, summary = ?, detail_json = ? WHERE id = ?`).run(now, c.summary, JSON.stringify(c.detail), open.id);
      return { ...fromRaw(open), lastAt: now, count: open.count + 1, summary: c.summary, detail: c.detail };
    }
    const r = this.db
      .prepare(`INSERT INTO alert (kind, key, summary, detail_json, first_at, last_at, state) VALUES (?, ?, ?, ?, ?, ?, 'open')`)
      .run(c.kind, c.key, c.summary, JSON.stringify(c.detail), now, now);
    return { id: Number(r.lastInsertRowid), kind: c.kind, key: c.key, summary: c.summary, detail: c.detail, firstAt: now, lastAt: now, count: 1, state: 'open' };
  }

  async claimNotify(id: number, now: number, renotifyMs: number, leaseMs: number): Promise<NotifyClaim | undefined> {
    const r = this.db.prepare(`SELECT notified_at FROM alert WHERE id = ? AND state = 'open' AND (notified_at IS NULL OR notified_at <= ?)`).get(id, now - renotifyMs) as { notified_at: number | null } | undefined;
    if (!r) return undefined;
    const mark = now - renotifyMs + Math.min(leaseMs, renotifyMs);
    this.db.prepare(`UPDATE alert SET notified_at = ? WHERE id = ?`).run(mark, id);
    return { id, at: mark, previous: r.notified_at ?? undefined };
  }

  async confirmNotify(claim: NotifyClaim, at: number): Promise<void> {
    this.db.prepare(`UPDATE alert SET notified_at = ? WHERE id = ? AND notified_at = ?`).run(at, claim.id, claim.at);
  }

  async releaseNotify(claim: NotifyClaim): Promise<void> {
    this.db.prepare(`UPDATE alert SET notified_at = ? WHERE id = ? AND notified_at = ?`).run(claim.previous ?? null, claim.id, claim.at);
  }

  async get(id: number): Promise<AlertRow | undefined> {
    const r = this.db.prepare(`SELECT * FROM alert WHERE id = ?`).get(id) as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  async list(opts: { state?: 'open' | 'acked'; limit?: number } = {}): Promise<AlertRow[]> {
    const rows = (
      opts.state
        ? this.db.prepare(`SELECT * FROM alert WHERE state = ? ORDER BY id DESC LIMIT ?`).all(opts.state, opts.limit ?? 1000)
        : this.db.prepare(`SELECT * FROM alert ORDER BY id DESC LIMIT ?`).all(opts.limit ?? 1000)
    ) as Raw[];
    return rows.map(fromRaw);
  }

  async ack(id: number, by: string, now: number): Promise<boolean> {
    return this.db.prepare(`UPDATE alert SET state = 'acked', acked_by = ?, acked_at = ? WHERE id = ? AND state = 'open'`).run(by, now, id).changes === 1;
  }

  async openByKind(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.db.prepare(`SELECT kind, COUNT(*) AS n FROM alert WHERE state = 'open' GROUP BY kind`).all() as Array<{ kind: string; n: number }>) out[r.kind] = r.n;
    return out;
  }

  async lastRun(): Promise<number | undefined> {
    const r = this.db.prepare(`SELECT value FROM alert_meta WHERE name = 'last_run'`).get() as { value: number } | undefined;
    return r?.value;
  }

  async setLastRun(at: number): Promise<void> {
    this.db.prepare(`INSERT INTO alert_meta (name, value) VALUES ('last_run', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`).run(at);
  }
}
