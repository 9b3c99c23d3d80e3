/**
 * @module test/audit/bulk-import.test
 * An import into an empty trace (the bulk load: indexes left out, duplicates merged at the end by
 * audit/bulk-dedupe) writes exactly the rows an import into a trace holding rows writes (row by
 * row, merged as they come): the same copies, the same authentication columns filled from the
 * duplicates, the same Exchange verdicts, the same per-file inserted and duplicate counts; and
 * every index exists afterwards, the unique import_key one refusing a second copy.
 * Touches: temporary data directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/core/sqlite.ts';
import { importFiles } from '../../src/audit/index.ts';
import { ensureTraceSchema, insertMessageSync } from '../../src/trace/index.ts';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';
import { csv, emailEventsCsv, emailEventsRows, MESSAGE_TRACE_HEADER, usTime, write } from './fixtures.ts';

const NOW = Date.UTC(2026, 10, 20, 12); // day 20: the en-US date order settles from the first row

/** A message trace of the EmailEvents messages (same network message id + recipient), one of them twice. */
function traceOfEvents(): string {
  const rows = emailEventsRows(NOW).map((r) => [usTime(Date.parse(r.Timestamp!)), r.SenderMailFromAddress!, r.RecipientEmailAddress!, r.Subject!, 'Delivered', '', r.SenderIPv4!, '1000', r.InternetMessageId!, r.NetworkMessageId!]);
  return csv(MESSAGE_TRACE_HEADER, [...rows, rows[1]!]);
}

const ROW_COLUMNS = 'import_key, connection_id, received_at, client_ip, listener, mail_from, header_from, recipients, subject, size, internet_message_id, attribution, connector, status, source, spf, dkim, dmarc, compauth, exo_verdicts, import_name';

function importRows(db: Db): unknown[] {
  return db.prepare(`SELECT ${ROW_COLUMNS} FROM trace_message WHERE import_name = 'both' ORDER BY import_key`).all();
}

const indexCount = (db: Db): number =>
  (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trace_message' AND name NOT LIKE 'sqlite_%'").get() as { n: number }).n;

test('a bulk import into an empty trace writes what a row-by-row import writes, duplicates merged alike', async () => {
  const results: { rows: unknown[]; counts: number[][] }[] = [];
  for (const gatewayRow of [false, true]) {
    const dir = tempDir('mailgate-bulk-');
    try {
      assert.equal(cli(dir, ['init']).code, 0);
      const trace = write(dir, 'trace.csv', traceOfEvents(), 'utf8');
      const events = write(dir, 'events.csv', emailEventsCsv(NOW), 'utf8');
      const db = openDatabase(join(dir, 'mailgate.db'));
      try {
        ensureTraceSchema(db);
        if (gatewayRow) insertMessageSync(db, { id: 'G1', connectionId: 'C', receivedAt: NOW, clientIp: '192.0.2.1', listener: 'mx', recipients: ['a@contoso.com'], status: 'Delivered', source: 'gateway' });
        const s = await importFiles(db, [trace, events, events], { name: 'both', tenantDomains: ['contoso.com'] });
        results.push({ rows: importRows(db), counts: s.files.map((f) => [f.rows, f.inserted, f.duplicates]) });
        assert.equal(indexCount(db), 7, 'every index is there');
        assert.throws(
          () => db.prepare("INSERT INTO trace_message (id, connection_id, received_at, client_ip, listener, recipients, rcpt_count, status, updated_at, import_key) SELECT 'X', connection_id, received_at, client_ip, listener, recipients, 1, status, 0, import_key FROM trace_message WHERE import_name = 'both' LIMIT 1").run(),
          /UNIQUE/,
          'the import_key index is unique again',
        );
      } finally {
        db.close();
      }
    } finally {
      removeDir(dir);
    }
  }
  const [bulk, rowByRow] = results;
  assert.deepEqual(bulk!.counts, [[5, 4, 1], [4, 0, 4], [4, 0, 4]]);
  assert.deepEqual(bulk, rowByRow);
  const merged = bulk!.rows as { spf: string | null; exo_verdicts: string | null }[];
  assert.equal(merged.length, 4);
  assert.ok(merged.every((r) => r.spf !== null), 'SPF of the EmailEvents duplicates filled into the message trace copies');
  assert.ok(merged.every((r) => /deliveryAction/.test(r.exo_verdicts ?? '') && /status/.test(r.exo_verdicts ?? '')), 'verdict keys of both exports');
});
