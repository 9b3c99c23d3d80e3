/**
 * @module stores/postgres/alert-store
 * The fleet's alerts in PostgreSQL (alerts/store.ts says what is kept; migrations/0003-alerts.ts
 * the table). Every node writes here, so each write is one statement the database serialises:
 * raising is an INSERT … ON CONFLICT on the open (kind, key) index (two nodes raising the same
 * finding at once make one alert), and the sending is claimed with a row lock (of two nodes one
 * sends). An acknowledgement from any node closes the alert for all.
 * Touches: the alert and alert_meta tables of the mailgate schema.
 */
import type { AlertKind, AlertRow, AlertStore, Candidate, NotifyClaim } from '../../alerts/index.ts';
import { guarded, type PgPool } from './pool.ts';

interface Raw {
  id: string;
  kind: AlertKind;
  key: string;
  summary: string;
  detail: Record<string, unknown>;
  first_at: string;
  last_at: string;
  count: number;
  state: 'open' | 'acked';
  acked_by: string | null;
  acked_at: string | null;
  notified_at: string | null;
}

// BIGINT columns arrive as strings; ids and epoch ms fit a double exactly.
const num = (v: string | null): number | undefined => (v === null ? undefined : Number(v));

const fromRaw = (r: Raw): AlertRow => ({
  id: Number(r.id),
  kind: r.kind,
  key: r.key,
  summary: r.summary,
  detail: r.detail,
  firstAt: Number(r.first_at),
  lastAt: Number(r.last_at),
  count: r.count,
  state: r.state,
  ackedBy: r.acked_by ?? undefined,
  ackedAt: num(r.acked_at),
  notifiedAt: num(r.notified_at),
});

export class PgAlertStore implements AlertStore {
  constructor(
    private readonly pool: PgPool,
    private readonly where = 'PostgreSQL',
  ) {}

  async raise(c: Candidate, now: number, quietMs = 0): Promise<AlertRow | undefined> {
    return guarded(this.where, async () => {
      const acked = (await this.pool.query<{ t: string | null }>(`SELECT max(acked_at) AS t FROM alert WHERE kind = $1 AND key = $2 AND state = 'acked'`, [c.kind, c.key])).rows[0]?.t ?? null;
      const t = acked === null ? undefined : Number(acked);
      const covered = t !== undefined && (c.seenAt !== undefined ? c.seenAt <= t : now - t < quietMs);
      const detail = JSON.stringify(c.detail);
      if (covered) {
        // Covered by an acknowledgement: only an alert still open (raised again since) grows.
        const r = await this.pool.query<Raw>(
          `UPDATE alert SET last_at = GREATEST(last_at, $3), count = count + 1, summary = $4, detail = $5::jsonb WHERE kind = $1 AND key = $2 AND state = 'open' RETURNING *`,
          [c.kind, c.key, now, c.summary, detail],
        );
        return r.rows[0] ? fromRaw(r.rows[0]) : undefined;
      }
      const r = await this.pool.query<Raw>(
        `INSERT INTO alert (kind, key, summary, detail, first_at, last_at, state) VALUES ($1, $2, $3, $4::jsonb, $5, $5, 'open')
         ON CONFLICT (kind, key) WHERE state = 'open'
         DO UPDATE SET last_at = GREATEST(alert.last_at, excluded.last_at), count = alert.count + 1, summary = excluded.summary, detail = excluded.detail
         RETURNING *`,
        [c.kind, c.key, c.summary, detail, now],
      );
      const row = r.rows[0];
      if (!row) throw new Error('alert upsert returned no row');
      return fromRaw(row);
    });
  }

  async claimNotify(id: number, now: number, renotifyMs: number, leaseMs: number): Promise<NotifyClaim | undefined> {
    const mark = now - renotifyMs + Math.min(leaseMs, renotifyMs);
    return guarded(this.where, async () => {
      // FOR UPDATE: a second claimant waits for the first, then sees its notified_at and gets nothing.
      const r = await this.pool.query<{ previous: string | null }>(
        `WITH old AS (SELECT id, notified_at FROM alert WHERE id = $1 AND state = 'open' FOR UPDATE)
         UPDATE alert a SET notified_at = $2 FROM old
          WHERE a.id = old.id AND (old.notified_at IS NULL OR old.notified_at <= $3)
         RETURNING old.notified_at AS previous`,
        [id, mark, now - renotifyMs],
      );
      const row = r.rows[0];
      return row ? { id, at: mark, previous: num(row.previous) } : undefined;
    });
  }

  async confirmNotify(claim: NotifyClaim, at: number): Promise<void> {
    await guarded(this.where, () => this.pool.query(`UPDATE alert SET notified_at = $1 WHERE id = $2 AND notified_at = $3`, [at, claim.id, claim.at]));
  }

  async releaseNotify(claim: NotifyClaim): Promise<void> {
    await guarded(this.where, () => this.pool.query(`UPDATE alert SET notified_at = $1 WHERE id = $2 AND notified_at = $3`, [claim.previous ?? null, claim.id, claim.at]));
  }

  async get(id: number): Promise<AlertRow | undefined> {
    return guarded(this.where, async () => {
      const r = await this.pool.query<Raw>(`SELECT * FROM alert WHERE id = $1`, [id]);
      return r.rows[0] ? fromRaw(r.rows[0]) : undefined;
    });
  }

  async list(opts: { state?: 'open' | 'acked'; limit?: number } = {}): Promise<AlertRow[]> {
    return guarded(this.where, async () => {
      const limit = opts.limit ?? 1000;
      const r = opts.state
        ? await this.pool.query<Raw>(`SELECT * FROM alert WHERE state = $1 ORDER BY id DESC LIMIT $2`, [opts.state, limit])
        : await this.pool.query<Raw>(`SELECT * FROM alert ORDER BY id DESC LIMIT $1`, [limit]);
      return r.rows.map(fromRaw);
    });
  }

  async ack(id: number, by: string, now: number): Promise<boolean> {
    return guarded(this.where, async () => {
      const r = await this.pool.query(`UPDATE alert SET state = 'acked', acked_by = $2, acked_at = $3 WHERE id = $1 AND state = 'open'`, [id, by, now]);
      return r.rowCount === 1;
    });
  }

  async openByKind(): Promise<Record<string, number>> {
    return guarded(this.where, async () => {
      const out: Record<string, number> = {};
      const r = await this.pool.query<{ kind: string; n: string }>(`SELECT kind, count(*) AS n FROM alert WHERE state = 'open' GROUP BY kind`);
      for (const x of r.rows) out[x.kind] = Number(x.n);
      return out;
    });
  }

  async lastRun(): Promise<number | undefined> {
    return guarded(this.where, async () => {
      const r = await this.pool.query<{ value: string }>(`SELECT value FROM alert_meta WHERE name = 'last_run'`);
      return r.rows[0] ? Number(r.rows[0].value) : undefined;
    });
  }

  async setLastRun(at: number): Promise<void> {
    await guarded(this.where, () =>
      this.pool.query(`INSERT INTO alert_meta (name, value) VALUES ('last_run', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, [at]),
    );
  }
}
