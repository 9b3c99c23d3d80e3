/**
 * @module queue/release-requests
 * Release requests of quarantined mail (a recipient followed the link of a notification) and the
 * notifications already sent, in SQLite: quarantine_request (one row per token, keyed by the
 * token's nonce, so a token is used once) and quarantine_notified (which held recipient was told).
 * A request moves pending → approved | denied once, by a conditional update (one winner).
 * Touches: the SQLite database (its two quarantine tables only).
 * RFCs: none.
 */
import type { Db } from '../core/sqlite.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS quarantine_request (
  nonce        TEXT PRIMARY KEY,
  queue_id     TEXT NOT NULL,
  rcpt         TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','approved','denied')),
  decided_by   TEXT,
  decided_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS quarantine_request_state ON quarantine_request (state, requested_at);
CREATE TABLE IF NOT EXISTS quarantine_notified (
  queue_id    TEXT NOT NULL,
  rcpt        TEXT NOT NULL,
  notified_at INTEGER NOT NULL,
  PRIMARY KEY (queue_id, rcpt)
) WITHOUT ROWID;
`;

export type RequestState = 'pending' | 'approved' | 'denied';

export interface ReleaseRequest {
  /** The request's id: the nonce of the token that made it. */
  id: string;
  queueId: string;
  rcpt: string;
  requestedAt: number;
  state: RequestState;
  decidedBy: string | null;
  decidedAt: number | null;
}

interface Raw {
  nonce: string;
  queue_id: string;
  rcpt: string;
  requested_at: number;
  state: RequestState;
  decided_by: string | null;
  decided_at: number | null;
}

const toRequest = (r: Raw): ReleaseRequest => ({
  id: r.nonce,
  queueId: r.queue_id,
  rcpt: r.rcpt,
  requestedAt: r.requested_at,
  state: r.state,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

export class ReleaseRequests {
  constructor(private readonly db: Db) {
    db.exec(SCHEMA);
  }

  /** Record a request for the token `nonce`; false when that token was used already. */
  add(nonce: string, queueId: string, rcpt: string, now: number): boolean {
    return this.db.prepare(`INSERT OR IGNORE INTO quarantine_request (nonce, queue_id, rcpt, requested_at) VALUES (?, ?, ?, ?)`).run(nonce, queueId, rcpt, now).changes === 1;
  }

  /** True when the token `nonce` was used. */
  used(nonce: string): boolean {
    return this.db.prepare(`SELECT 1 FROM quarantine_request WHERE nonce = ?`).get(nonce) !== undefined;
  }

  get(id: string): ReleaseRequest | undefined {
    const r = this.db.prepare(`SELECT * FROM quarantine_request WHERE nonce = ?`).get(id) as Raw | undefined;
    return r && toRequest(r);
  }

  list(state?: RequestState, limit = 1000): ReleaseRequest[] {
    const rows = state
      ? this.db.prepare(`SELECT * FROM quarantine_request WHERE state = ? ORDER BY requested_at LIMIT ?`).all(state, limit)
      : this.db.prepare(`SELECT * FROM quarantine_request ORDER BY requested_at LIMIT ?`).all(limit);
    return (rows as Raw[]).map(toRequest);
  }

  /** pending → `to`, once (of two deciding at once one wins); false when it was not pending. */
  decide(id: string, to: 'approved' | 'denied', by: string, now: number): boolean {
    return this.db.prepare(`UPDATE quarantine_request SET state = ?, decided_by = ?, decided_at = ? WHERE nonce = ? AND state = 'pending'`).run(to, by, now, id).changes === 1;
  }

  /** Mark held recipients as told; returns those not told before (the caller tells them). */
  markNotified(pairs: ReadonlyArray<{ queueId: string; rcpt: string }>, now: number): Array<{ queueId: string; rcpt: string }> {
    const ins = this.db.prepare(`INSERT OR IGNORE INTO quarantine_notified (queue_id, rcpt, notified_at) VALUES (?, ?, ?)`);
    return this.db.transaction(() => pairs.filter((p) => ins.run(p.queueId, p.rcpt, now).changes === 1)).immediate();
  }

  /** True when (queueId, rcpt) was told. */
  notified(queueId: string, rcpt: string): boolean {
    return this.db.prepare(`SELECT 1 FROM quarantine_notified WHERE queue_id = ? AND rcpt = ?`).get(queueId, rcpt) !== undefined;
  }
}
