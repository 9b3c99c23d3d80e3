/**
 * @module audit/sink
 * Writes imported message copies into the trace store as trace_message rows with source
 * `import:<name>`, inside the import's one transaction (audit/import opens and commits it, so an
 * interrupted import leaves nothing), or chunked: each batch its own transaction, for an import
 * into the store of a running gateway (the API's upload), whose queue and trace writers must not
 * wait for a whole import. Dedupe rests on the unique import_key (network message id +
 * recipient): re-importing a file adds nothing; a duplicate only fills authentication columns
 * still empty (an EmailEvents import after a message trace import adds SPF/DKIM/DMARC to the same
 * copies) and Exchange's verdicts (exo_verdicts, JSON) it lacks.
 * Two ways in, one result:
 * - into a trace that holds rows: `INSERT … ON CONFLICT DO NOTHING` on import_key, duplicates
 *   merged as they come;
 * - bulk, into an empty trace (the usual audit: a fresh store): the secondary indexes and the
 *   import_key index are dropped for the load (trace/store dropIndexesForBulkLoad, in the same
 *   transaction), rows are appended, duplicates are merged and deleted in one sorted pass at the
 *   end (audit/bulk-dedupe) and the indexes built once. SQLite's row-by-row index upkeep, the
 *   random import_key above all, was most of an import's time.
 * Only the 25 columns an import fills are bound (the others default to NULL). Row ids are
 * `I<run start, base 36>-<sequence>`: increasing within a run, so inserts append to the primary
 * key B-tree. Also reconciles attribution for an import once its tenant domains are known.
 * Touches: trace_message (insert, merge, delete of the import's own duplicates, attribution updates).
 */
import type Database from 'better-sqlite3';
import type { Db } from '../core/sqlite.ts';
import { dropIndexesForBulkLoad, exoVerdictsText, type BulkLoad } from '../trace/index.ts';
import { dedupeBulkLoad, MERGE_SET } from './bulk-dedupe.ts';
import { attributionOf, listenerOf, type ImportedRow } from './model.ts';

/** The trace_message columns an imported row fills, in the order rowValues() writes them. */
const IMPORT_COLUMNS = [
  'id', 'connection_id', 'received_at', 'client_ip', 'listener', 'tls_version', 'mail_from', 'header_from',
  'recipients', 'rcpt_count', 'subject', 'size', 'internet_message_id', 'attribution', 'connector', 'status',
  'source', 'spf', 'dkim', 'dmarc', 'compauth', 'updated_at', 'import_key', 'import_name', 'exo_verdicts',
] as const;

export interface SinkCounts {
  inserted: number;
  duplicates: number;
}

/** Batched writer of one import; construct and close() it inside the import's transaction. */
export class ImportSink {
  private readonly insert: Database.Statement;
  private readonly merge: Database.Statement;
  private readonly batch: ImportedRow[] = [];
  readonly counts: SinkCounts = { inserted: 0, duplicates: 0 };
  private readonly source: string;
  private readonly idPrefix = `I${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36).padStart(2, '0')}-`;
  private seq = 0;
  private readonly bulkLoad: BulkLoad | undefined;
  /** Bulk load: the largest rowid at the end of each file, for counting its duplicates. */
  private readonly fileEnds: number[] = [];
  private readonly vals: unknown[] = new Array<unknown>(IMPORT_COLUMNS.length);

  /**
   * `chunked`: no enclosing transaction; each batch of `batchSize` rows commits on its own (a live
   * gateway's writers wait for one batch at most), never a bulk load (the indexes stay).
   */
  constructor(
    private readonly db: Db,
    private readonly name: string,
    private readonly tenant: ReadonlySet<string>,
    private readonly batchSize = 20_000,
    private readonly chunked = false,
  ) {
    if (!chunked && !db.inTransaction) throw new Error('ImportSink: open the import transaction first');
    this.bulkLoad = chunked ? undefined : dropIndexesForBulkLoad(db);
    // A 128 MiB page cache for this connection, and WAL checkpoints every 256 MiB instead of 4 MiB
    // while importing; finish() restores the default and checkpoints.
    db.pragma('cache_size = -131072');
    db.pragma('wal_autocheckpoint = 65536');
    this.source = `import:${name}`;
    this.insert = db.prepare(`INSERT INTO trace_message (${IMPORT_COLUMNS.join(', ')}) VALUES (${IMPORT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`);
    this.merge = db.prepare(`UPDATE trace_message SET ${MERGE_SET} WHERE import_key = @import_key`);
    this.vals[IMPORT_COLUMNS.indexOf('import_name')] = name;
    this.vals[IMPORT_COLUMNS.indexOf('source')] = this.source;
  }

  /** True when this import loads an empty trace with its indexes left out until close(). */
  get bulk(): boolean {
    return this.bulkLoad !== undefined;
  }

  /** Fill the reused parameter array with a row's columns (IMPORT_COLUMNS order; a million rows make no garbage records). */
  private rowValues(r: ImportedRow, now: number): unknown[] {
    const v = this.vals;
    v[0] = this.idPrefix + (this.seq++).toString(36).padStart(8, '0');
    v[1] = r.networkMessageId;
    v[2] = r.receivedAt;
    v[3] = r.clientIp;
    v[4] = listenerOf(r.direction);
    v[5] = r.tlsVersion ?? null;
    v[6] = r.mailFrom ?? null;
    v[7] = r.headerFrom ?? null;
    v[8] = JSON.stringify([r.recipient]);
    v[9] = 1;
    v[10] = r.subject ?? null;
    v[11] = r.size ?? null;
    v[12] = r.messageId ?? null;
    v[13] = attributionOf(r, this.tenant);
    v[14] = r.connector ?? null;
    v[15] = r.status;
    // v[16] source: set once
    v[17] = r.spf ?? null;
    v[18] = r.dkim ?? null;
    v[19] = r.dmarc ?? null;
    v[20] = r.compauth ?? null;
    v[21] = now;
    v[22] = r.key;
    // v[23] import_name: set once
    v[24] = exoVerdictsText(r.exo) ?? null;
    return v;
  }

  add(r: ImportedRow): void {
    this.batch.push(r);
    if (this.batch.length >= this.batchSize) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0) return;
    if (this.chunked) this.db.transaction(() => this.write())();
    else this.write();
  }

  private write(): void {
    const now = Date.now();
    for (const r of this.batch) {
      const v = this.rowValues(r, now);
      if (this.insert.run(v).changes > 0) this.counts.inserted++;
      else {
        this.counts.duplicates++;
        const exo = v[24];
        if (r.spf || r.dkim || r.dmarc || r.compauth || r.headerFrom || exo) {
          this.merge.run({ spf: v[17], dkim: v[18], dmarc: v[19], compauth: v[20], header_from: v[7], exo_verdicts: exo, import_key: r.key });
        }
      }
    }
    this.batch.length = 0;
  }

  /** Flush, and mark the end of a file (a bulk load counts each file's duplicates at close()). */
  endFile(): void {
    this.flush();
    if (this.bulk) this.fileEnds.push((this.db.prepare('SELECT max(rowid) AS m FROM trace_message').get() as { m: number | null }).m ?? 0);
  }

  /**
   * Flush; for a bulk load, merge and delete duplicate copies and build the indexes left out.
   * Returns the duplicates found now, per file ended (empty unless bulk): the caller moves them
   * from each file's inserted to its duplicates. Inside the transaction, like the rows.
   */
  close(): number[] {
    this.flush();
    if (!this.bulkLoad) return [];
    // Sorter helper threads for the index builds (and the dedupe's GROUP BY): SQLite's own threads.
    this.db.pragma('threads = 2');
    try {
      try {
        this.bulkLoad.rebuild();
        return this.fileEnds.map(() => 0);
      } catch (e) {
        // Copies sharing an import_key (overlapping exports in one import): merge them, then build again.
        if ((e as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw e;
      }
      const { perFile, total } = dedupeBulkLoad(this.db, this.fileEnds);
      this.counts.inserted -= total;
      this.counts.duplicates += total;
      this.bulkLoad.rebuild();
      return perFile;
    } finally {
      this.db.pragma('threads = 0');
    }
  }

  /** After the import's commit: the default checkpoint interval again, and a checkpoint (passive: never waits). */
  afterCommit(): void {
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
