/**
 * @module test/stores/trace-import-ship.test
 * Imports across the fleet: Exchange Online exports imported into a fleet node's SQLite trace
 * (audit import, every shape and encoding of the audit fixtures) reach the shared PostgreSQL
 * trace through the outbox with their import name and Exchange's verdicts, and the Direct Send
 * readiness and Inbound messages reports over the import give the same result on both stores.
 * Touches: a temp directory; a PostgreSQL schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/core/sqlite.ts';
import { createSpfAuthorizer, importFiles } from '../../src/audit/index.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import { sqliteOutbox } from '../../src/stores/sqlite/trace-outbox.ts';
import { directSendReportFrom, inboundReportFrom, reportWindow } from '../../src/trace/reports/index.ts';
import { TraceShipper } from '../../src/trace/index.ts';
import { openPg } from '../helpers/trace-adapters.ts';
import { pgSkip } from '../helpers/postgres.ts';
import * as F from '../audit/fixtures.ts';

test('an import on a fleet node ships to PostgreSQL; the reports over it match SQLite', { skip: await pgSkip(), timeout: 60_000 }, async (t) => {
  const now = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-import-ship-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const outbox = sqliteOutbox(db); // a fleet node's file: the triggers are on before the import
  const files = [
    F.write(dir, 'trace.csv', F.messageTraceText(now), 'utf16le-bom'),
    F.write(dir, 'enhanced.csv', F.historicalText(now), 'utf8'),
    F.write(dir, 'extended.csv', F.extendedText(now), 'utf16le'),
    F.write(dir, 'events.jsonl', F.emailEventsJsonLines(now), 'utf8'),
  ];
  await importFiles(db, files, { name: 'fx', dateFormat: 'mdy' });
  const { store: pgStore, pool } = await openPg(t, 'mx1');
  await new TraceShipper({ outbox, store: pgStore, node: 'mx1' }).drain();
  const imported = await pool.query("SELECT count(*)::int AS n, count(exo_verdicts)::int AS v FROM trace_message WHERE import_name = 'fx'");
  const local = db.prepare("SELECT count(*) AS n, count(exo_verdicts) AS v FROM trace_message WHERE import_name = 'fx'").get() as { n: number; v: number };
  assert.deepEqual(imported.rows[0], local);
  assert.ok(local.n > 0 && local.v > 0);

  const lite = sqliteTraceStore(db);
  const w = reportWindow('7d', now, 90);
  const spfCheck = createSpfAuthorizer({ record: F.TENANT_SPF, tenantDomains: ['contoso.com'], resolve: F.fakeResolve });
  const opts = { source: 'import:fx', spfCheck };
  const [a, b] = [await directSendReportFrom(lite, w, opts), await directSendReportFrom(pgStore, w, opts)];
  assert.ok(a.sources.length > 0);
  assert.deepEqual(b.sources, a.sources);
  assert.deepEqual(b.summary, a.summary);
  assert.deepEqual((await inboundReportFrom(pgStore, w, { source: 'import:fx' })).sections, (await inboundReportFrom(lite, w, { source: 'import:fx' })).sections);
  // Retention in PostgreSQL keeps imported rows, as SQLite's does.
  await pgStore.prune(now + 1);
  assert.equal((await pool.query("SELECT count(*)::int AS n FROM trace_message WHERE import_name = 'fx'")).rows[0].n, local.n);
});
