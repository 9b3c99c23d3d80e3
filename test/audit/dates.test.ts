/**
 * @module test/audit/dates.test
 * The export's date format is detected across all its rows, never guessed from one: `06/05/2026`
 * waits until a day above 12 (`13/05/2026`) settles day/month/year, then is read as 6 May; the
 * same file in en-US settles month/day/year; a file with no day above 12 is refused asking for
 * `--date-format`, which then decides; a row contradicting the settled order is malformed.
 * Touches: temporary directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/core/sqlite.ts';
import { dateEvidence, importFiles, ImportRefused } from '../../src/audit/index.ts';
import * as X from './form-fixtures.ts';

function setup(): { dir: string; db: Db; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-dates-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  return { dir, db, done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

const times = (db: Db): string[] =>
  (db.prepare('SELECT received_at AS t, recipients AS r FROM trace_message ORDER BY received_at, recipients').all() as { t: number; r: string }[]).map((x) => `${new Date(x.t).toISOString()} ${x.r}`);

/** Oldest first: three ambiguous dates (6, 7, 8 May) before the one that settles the order (13 May). */
const OLDEST_FIRST = [...X.MESSAGES].reverse();
const EXPECTED = [
  '2026-05-06T09:00:00.000Z ["alice@contoso.com"]',
  '2026-05-07T22:01:22.000Z ["bob@contoso.com"]',
  '2026-05-08T10:30:00.000Z ["partner@fabrikam.example"]',
  '2026-05-13T08:15:00.000Z ["alice@contoso.com"]',
  '2026-05-13T08:15:00.000Z ["bob@contoso.com"]',
];

test('dates: the evidence of one date', () => {
  assert.equal(dateEvidence('13/12/2026 13:00'), 'dmy');
  assert.equal(dateEvidence('06/12/2026 13:00'), 'ambiguous');
  assert.equal(dateEvidence('6/13/2026 1:00:00 PM'), 'mdy');
  assert.equal(dateEvidence('06.12.2026 13:00:00'), 'dmy');
  assert.equal(dateEvidence('6-12-2026 13:00:00'), 'ambiguous');
  assert.equal(dateEvidence('2026-12-06T13:00:00.0000000Z'), 'none');
});

test('dates: day/month/year settled by a day above 12; the rows read before it are read again in that order', async () => {
  const t = setup();
  try {
    const f = X.put(t.dir, 'gb.csv', X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime, OLDEST_FIRST)), 'utf16le-bom');
    const s = await importFiles(t.db, [f], { name: 'gb', tenantDomains: ['contoso.com'] });
    assert.deepEqual(times(t.db), EXPECTED, '06/05/2026 is 6 May, not June 5');
    assert.equal(s.files[0]?.rows, 5);
    assert.equal(s.files[0]?.inserted, 5);
    assert.ok(s.files[0]?.notes.includes('3 row(s) read before the date order was known were read again once it was'), s.files[0]?.notes.join('\n'));
    assert.ok(s.files[0]?.notes.includes('dates read as day/month/year: settled by line 6 ("13/05/2026 08:15:00")'), s.files[0]?.notes.join('\n'));
  } finally {
    t.done();
  }
});

test('dates: the same rows from an en-US Windows settle month/day/year', async () => {
  const t = setup();
  try {
    const f = X.put(t.dir, 'us.csv', X.exportCsv(X.V2_HEADER, X.v2Rows(X.usTime, OLDEST_FIRST), { type: 'Deserialized.Microsoft.Exchange.Management.ReportingTask.MessageTraceV2' }));
    const s = await importFiles(t.db, [f], { name: 'us' });
    assert.deepEqual(times(t.db), EXPECTED);
    assert.ok(s.files[0]?.notes.some((n) => n.startsWith('dates read as month/day/year: settled by line 7 ("5/13/2026 8:15:00 AM")')), s.files[0]?.notes.join('\n'));
  } finally {
    t.done();
  }
});

test('dates: a file with no day above 12 is refused naming --date-format; --date-format then decides', async () => {
  const t = setup();
  try {
    const early = OLDEST_FIRST.filter((m) => m.at !== X.T.scan1);
    const f = X.put(t.dir, 'early.csv', X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime, early), { delimiter: ';' }));
    await assert.rejects(importFiles(t.db, [f], { name: 'early' }), (e: unknown) => {
      assert.ok(e instanceof ImportRefused);
      assert.equal(
        e.message,
        `${f}: the date format is ambiguous: each of its 3 numeric date(s) (e.g. "06/05/2026 09:00:00" on line 2) reads as day/month and as month/day (no day above 12 settles it); pass --date-format dmy or --date-format mdy: with dmy "06/05/2026" is 6 May 2026, with mdy June 5, 2026`,
      );
      return true;
    });
    assert.deepEqual(times(t.db), [], 'nothing of the refused file was written');
    await importFiles(t.db, [f], { name: 'early', dateFormat: 'dmy' });
    assert.deepEqual(times(t.db), EXPECTED.slice(0, 3));
  } finally {
    t.done();
  }
});

test('dates: a row that contradicts the settled order is malformed, not silently swapped', async () => {
  const t = setup();
  try {
    const rows = X.v2Rows(X.frTime);
    rows.push(['99999999-0000-4000-8000-000000000009', '<late@x>', '5/14/2026 08:00:00', 'x@contoso.com', 'alice@contoso.com', '192.0.2.9', '', 'late', 'Delivered', '1']);
    const f = X.put(t.dir, 'mixed.csv', X.exportCsv(X.V2_HEADER, rows));
    const s = await importFiles(t.db, [f], { name: 'mixed' });
    assert.equal(s.files[0]?.inserted, 5);
    assert.deepEqual(s.malformed, [
      { file: f, line: 8, reason: 'date "5/14/2026 08:00:00" is month/day/year, but this file\'s dates are day/month/year (dates read as day/month/year: settled by line 2 ("13/05/2026 08:15:00"))' },
    ]);
  } finally {
    t.done();
  }
});
