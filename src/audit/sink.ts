/**
 * @module audit/sink
 * Writes imported message copies into the trace store as TraceMessage rows with source
 * `import:<name>`: batched in transactions, `INSERT … ON CONFLICT DO NOTHING` on the unique
 * import_key (network message id + recipient), so re-importing a file adds nothing; a duplicate
 * only fills authentication columns still empty (an EmailEvents import after a message trace
 * import adds SPF/DKIM/DMARC to the same copies). Row ids are `I<run start, base 36>-<sequence>`:
 * increasing within a run, so inserts append to the primary key B-tree instead of scattering
 * (dedupe rests on import_key, not on the id). Positional parameters and 20,000-row transactions:
 * together about twice as fast as named parameters, hashed ids and small batches.
 * Exchange's own verdicts go to exo_verdicts (JSON); a duplicate adds the keys it lacks.
 * Also reconciles attribution for an import once its tenant domains are known (given or inferred).
 * Touches: trace_message (insert, and attribution updates of the import's own rows).
 */
import type Database from 'better-sqlite3';
import type { Db } from '../core/sqlite.ts';
import { dropIndexesForBulkLoad, exoVerdictsText, type TraceMessage } from '../trace/index.ts';
import { MESSAGE_COLUMNS, messageToRecord } from '../trace/rows.ts';
import { attributionOf, listenerOf, type ImportedRow } from './model.ts';

const EXTRA = ['import_key', 'import_name', 'exo_verdicts'] as const;

export interface SinkCounts {
  inserted: number;
  duplicates: number;
}

/** Batched writer of one import. */
export class ImportSink {
  private readonly insert: Database.Statement;
  private readonly merge: Database.Statement;
  private readonly batch: ImportedRow[] = [];
  private readonly flushTx: (rows: ImportedRow[]) => void;
  readonly counts: SinkCounts = { inserted: 0, duplicates: 0 };
  private readonly source: string;
  private readonly idPrefix = `I${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36).padStart(2, '0')}-`;
  private seq = 0;
  private readonly rebuild: (() => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly name: string,
    private readonly tenant: ReadonlySet<string>,
    private readonly batchSize = 20_000,
  ) {
    // Into an empty trace (the usual audit: a fresh store, no gateway), the secondary indexes are
    // built once at close() instead of kept up row by row: SQLite's index upkeep is most of an import's time.
    this.rebuild = dropIndexesForBulkLoad(db);
    // A 128 MiB page cache for this connection (the import_key index takes random GUID keys), and
    // WAL checkpoints every 256 MiB instead of 4 MiB while importing (hot index pages are written back
    // once, not at every checkpoint); close() restores the default and checkpoints.
    db.pragma('cache_size = -131072');
    db.pragma('wal_autocheckpoint = 65536');
    this.source = `import:${name}`;
    const cols = [...MESSAGE_COLUMNS, ...EXTRA];
    this.insert = db.prepare(`INSERT INTO trace_message (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`);
    this.merge = db.prepare(
      `UPDATE trace_message SET spf = coalesce(spf, @spf), dkim = coalesce(dkim, @dkim), dmarc = coalesce(dmarc, @dmarc), compauth = coalesce(compauth, @compauth),
         header_from = coalesce(header_from, @header_from),
         exo_verdicts = CASE WHEN @exo_verdicts IS NULL THEN exo_verdicts WHEN exo_verdicts IS NULL THEN @exo_verdicts ELSE json_patch(@exo_verdicts, exo_verdicts) END
         WHERE import_key = @import_key`,
    );
    const n = MESSAGE_COLUMNS.length;
    this.flushTx = db.transaction((rows: ImportedRow[]) => {
      const now = Date.now();
      // One parameter array reused for every row (no per-row record copy: a million rows is a lot of garbage).
      const vals: unknown[] = new Array<unknown>(n + EXTRA.length);
      vals[n + 1] = this.name;
      for (const r of rows) {
        const rec = messageToRecord(this.toMessage(r), now);
        for (let i = 0; i < n; i++) vals[i] = rec[MESSAGE_COLUMNS[i]!];
        vals[n] = r.key;
        const exo = exoVerdictsText(r.exo) ?? null;
        vals[n + 2] = exo;
        if (this.insert.run(vals).changes > 0) this.counts.inserted++;
        else {
          this.counts.duplicates++;
          if (r.spf || r.dkim || r.dmarc || r.compauth || r.headerFrom || exo) this.merge.run({ ...rec, import_key: r.key, import_name: this.name, exo_verdicts: exo });
        }
      }
    });
  }

  /** The trace row of a message copy. */
  toMessage(r: ImportedRow): TraceMessage {
    return {
      id: this.idPrefix + (this.seq++).toString(36).padStart(8, '0'),
      connectionId: r.networkMessageId,
      receivedAt: r.receivedAt,
      clientIp: r.clientIp,
      listener: listenerOf(r.direction),
      tlsVersion: r.tlsVersion,
      mailFrom: r.mailFrom,
      headerFrom: r.headerFrom,
      recipients: [r.recipient],
      subject: r.subject,
      size: r.size,
      messageId: r.messageId,
      attribution: attributionOf(r, this.tenant),
      connector: r.connector,
      status: r.status,
      source: this.source,
      spf: r.spf,
      dkim: r.dkim,
      dmarc: r.dmarc,
      compauth: r.compauth,
    };
  }

  add(r: ImportedRow): void {
    this.batch.push(r);
    if (this.batch.length >= this.batchSize) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0) return;
    this.flushTx(this.batch);
    this.batch.length = 0;
  }

  /** Flush, build the indexes dropped for the load, restore the default checkpoint interval and checkpoint the WAL (passive: never waits). */
  close(): void {
    try {
      this.flush();
    } finally {
      this.rebuild?.();
    }
    this.db.pragma('wal_autocheckpoint = 1000');
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }
}

/**
 * Recompute the attribution of every inbound/unknown-direction, connector-less row of an import
 * for a tenant domain set: `direct-send` when the MAIL FROM domain is a tenant domain, else
 * `anonymous-external`. Returns how many rows are direct-send afterwards (`countOnly`: only count).
 */
export function reconcileAttribution(db: Db, name: string, tenant: readonly string[], countOnly = false): number {
  const domains = JSON.stringify(tenant.map((d) => d.toLowerCase()));
  const base = `import_name = ? AND listener IN ('exo:inbound', 'exo:unknown') AND (connector IS NULL OR connector = '') AND client_ip <> ''`;
  const dom = `lower(substr(mail_from, instr(mail_from, '@') + 1)) IN (SELECT value FROM json_each(?))`;
  const n = (): number => (db.prepare(`SELECT count(*) AS n FROM trace_message WHERE import_name = ? AND attribution = 'direct-send'`).get(name) as { n: number }).n;
  if (countOnly) return n();
  return db.transaction(() => {
    db.prepare(`UPDATE trace_message SET attribution = 'anonymous-external' WHERE ${base} AND attribution = 'direct-send' AND (mail_from IS NULL OR NOT ${dom})`).run(name, domains);
    db.prepare(`UPDATE trace_message SET attribution = 'direct-send' WHERE ${base} AND attribution <> 'direct-send' AND mail_from IS NOT NULL AND ${dom}`).run(name, domains);
    // Stores written before the client-IP rule: a row without a client IP is never Direct Send.
    db.prepare(`UPDATE trace_message SET attribution = 'anonymous-external' WHERE import_name = ? AND attribution = 'direct-send' AND client_ip = ''`).run(name);
    return n();
  })();
}
