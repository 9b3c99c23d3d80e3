/**
 * @module test/audit/import.test
 * `audit import` end to end on fixture exports written by the tests (every supported shape and
 * encoding), then the Direct Send readiness report over the imported data asserted exactly; and
 * the documented outcomes for a duplicate import, a cut-off file, an unknown file, a file without
 * BOM in UTF-16, an undecodable file, and malformed rows.
 * Touches: temporary directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/core/sqlite.ts';
import { createSpfAuthorizer, importFiles, ImportRefused } from '../../src/audit/index.ts';
import { directSendReportFrom, reportWindow } from '../../src/trace/reports/index.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import * as F from './fixtures.ts';

const now = Date.now();

function setup(): { dir: string; db: Db; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-audit-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  return { dir, db, done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

const count = (db: Db, where = '1'): number => (db.prepare(`SELECT count(*) AS n FROM trace_message WHERE ${where}`).get() as { n: number }).n;

function fixtureFiles(dir: string): string[] {
  return [
    F.write(dir, 'trace.csv', F.messageTraceText(now), 'utf16le-bom'),
    F.write(dir, 'enhanced.csv', F.historicalText(now), 'utf8'),
    F.write(dir, 'extended.csv', F.extendedText(now), 'utf16le'),
    F.write(dir, 'inbound.csv', F.inboundReportText(now), 'utf8-bom'),
    F.write(dir, 'events.jsonl', F.emailEventsJsonLines(now), 'utf8'),
  ];
}

const spfCheck = (): ReturnType<typeof createSpfAuthorizer> => createSpfAuthorizer({ record: F.TENANT_SPF, tenantDomains: ['contoso.com'], resolve: F.fakeResolve });

test('import: every shape and encoding, then the readiness report exactly', async () => {
  const t = setup();
  try {
    const s = await importFiles(t.db, fixtureFiles(t.dir), { name: 'fx', dateFormat: 'mdy' });
    assert.deepEqual(
      s.files.map((f) => [f.kind, f.encoding, f.rows, f.inserted, f.duplicates, f.reportRows, f.malformed]),
      [
        ['message-trace', 'UTF-16 LE BOM', 5, 5, 0, 0, 0],
        ['historical-search', 'no BOM, no zero bytes: UTF-8', 3, 4, 0, 0, 0],
        ['extended-report', 'no BOM, zero bytes at odd offsets: UTF-16 LE', 3, 2, 0, 0, 0],
        ['inbound-report', 'UTF-8 BOM', 3, 0, 0, 3, 0],
        ['email-events', 'no BOM, no zero bytes: UTF-8', 4, 4, 0, 0, 0],
      ],
    );
    assert.match(s.files[0]?.notes[0] ?? '', /^skipped the Windows PowerShell line "#TYPE/);
    assert.deepEqual(s.tenantDomains, ['contoso.com']);
    assert.match(s.tenantHow, /^inferred from the recipient domains of inbound rows \(contoso\.com: 14\)/);
    assert.equal(s.directSend, 11);
    assert.equal(s.malformedCount, 0);
    assert.equal(count(t.db, "source = 'import:fx'"), 15);
    assert.equal(count(t.db, "attribution = 'connector' AND connector = 'ERP Partner'"), 2);
    assert.equal(count(t.db, "attribution = 'authenticated' AND listener = 'exo:outbound'"), 1);
    assert.equal(count(t.db, "attribution = 'anonymous-external' AND mail_from = 'news@fabrikam.example'"), 1);
    assert.equal(count(t.db, "client_ip = '2001:db8::25' AND status = 'Quarantined'"), 1, 'FilteredAsSpam → Quarantined, IPv6 kept');
    assert.equal(count(t.db, "header_from = 'hello@contoso.com' AND mail_from = 'bounce@contoso.com' AND compauth = 'pass'"), 1);

    const r = await directSendReportFrom(sqliteTraceStore(t.db), reportWindow('7d', now, 90), { source: 'import:fx', spfCheck: spfCheck() });
    assert.deepEqual(
      r.sources.map((x) => ({ ip: x.clientIp, sender: x.sender, n: x.messages, rcpts: x.recipients, spf: x.spf, authorised: x.spfAuthorised, dkim: x.dkimPassRate, dmarc: x.dmarc, cls: x.classification, action: x.action, subjects: x.sampleSubjects })),
      [
        { ip: '203.0.113.20', sender: 'alerts@contoso.com', n: 3, rcpts: 2, spf: 'unknown:3', authorised: 'pass (ip4:203.0.113.0/26)', dkim: 'unknown', dmarc: 'unknown:3', cls: 'device-or-app', action: 'connector-ip', subjects: ['Disk, 90% full', 'Disk\nfull again'] },
        { ip: '198.51.100.66', sender: 'ceo@contoso.com', n: 2, rcpts: 2, spf: 'fail:1 softfail:1', authorised: 'fail', dkim: '0% (0/2)', dmarc: 'fail:2', cls: 'likely-spoof', action: 'none', subjects: ['Urgent, wire'] },
        { ip: '203.0.113.10', sender: 'scanner@contoso.com', n: 2, rcpts: 2, spf: 'unknown:2', authorised: 'pass (ip4:203.0.113.0/26)', dkim: 'unknown', dmarc: 'unknown:2', cls: 'device-or-app', action: 'connector-ip', subjects: ['Scan, page 1', 'Scan\r\nsecond line'] },
        { ip: '203.0.113.30', sender: 'copier@contoso.com', n: 2, rcpts: 2, spf: 'pass:2', authorised: 'pass (ip4:203.0.113.0/26)', dkim: '0% (0/2)', dmarc: 'pass:2', cls: 'device-or-app', action: 'connector-ip', subjects: ['Copier scan'] },
        { ip: '198.51.100.7', sender: 'bounce@contoso.com', n: 1, rcpts: 1, spf: 'pass:1', authorised: 'pass (include:spf.vendor.example)', dkim: '100% (1/1)', dmarc: 'pass:1', cls: 'third-party-service', action: 'vendor-connector', subjects: ['Your receipt'] },
        { ip: '2001:db8::25', sender: 'app@contoso.com', n: 1, rcpts: 1, spf: 'unknown:1', authorised: 'fail', dkim: 'unknown', dmarc: 'unknown:1', cls: 'likely-spoof', action: 'none', subjects: ['Report "daily"'] },
      ],
    );
    assert.match(r.summary[0] ?? '', /from 6 sources \(2 of them likely spoof\)$/);
    // FilteredAsSpam (message trace Status), outside IP, not in SPF: Exchange's verdict decided.
    assert.deepEqual(r.sources.find((x) => x.clientIp === '2001:db8::25')?.signals, ["organization's SPF: fail", 'Status FilteredAsSpam 1/1']);
    // --source narrows: the gateway has no rows here.
    assert.equal((await directSendReportFrom(sqliteTraceStore(t.db), reportWindow('7d', now, 90), { source: 'gateway' })).sources.length, 0);
  } finally {
    t.done();
  }
});

test('import: EmailEvents as CSV and as a JSON array give the same rows; --tenant-domains is used as given', async () => {
  for (const [name, text] of [['ee.csv', F.emailEventsCsv(now)], ['ee.json', F.emailEventsJsonArray(now)]] as const) {
    const t = setup();
    try {
      const s = await importFiles(t.db, [F.write(t.dir, name, text, 'utf8')], { kind: 'email-events', tenantDomains: ['contoso.com'] });
      assert.equal(s.name, 'ee');
      assert.equal(s.tenantHow, 'given with --tenant-domains');
      assert.deepEqual([s.files[0]?.rows, s.files[0]?.inserted, s.malformedCount, s.directSend], [4, 4, 0, 3]);
      assert.equal(count(t.db, "spf = 'softfail' AND dkim = 'fail' AND dmarc = 'fail' AND status = 'Quarantined'"), 1);
    } finally {
      t.done();
    }
  }
});

test('import: re-importing the same file adds nothing', async () => {
  const t = setup();
  try {
    const files = fixtureFiles(t.dir);
    await importFiles(t.db, files, { name: 'fx', dateFormat: 'mdy' });
    const again = await importFiles(t.db, files, { name: 'fx', dateFormat: 'mdy' });
    assert.deepEqual(again.files.map((f) => f.inserted), [0, 0, 0, 0, 0]);
    assert.deepEqual(again.files.map((f) => f.duplicates), [5, 4, 2, 0, 4]);
    assert.equal(count(t.db), 15);
    assert.equal((t.db.prepare('SELECT count(*) AS n FROM audit_inbound_report').get() as { n: number }).n, 3);
    assert.equal(again.directSend, 11);
  } finally {
    t.done();
  }
});

test('import: a file cut off inside a quoted field imports the whole rows and says where it stopped', async () => {
  const t = setup();
  try {
    const text = F.messageTraceText(now, false);
    const cut = text.slice(0, text.indexOf('Report "') + 4); // inside row 4's quoted subject (line 5)
    const s = await importFiles(t.db, [F.write(t.dir, 'cut.csv', cut, 'utf16le-bom')], { tenantDomains: ['contoso.com'], dateFormat: 'mdy' });
    assert.equal(s.files[0]?.inserted, 2);
    assert.equal(s.files[0]?.stoppedAt, 'line 5: the file ends inside a quoted field that begins there; 2 whole row(s) before it were read, the cut-off row was not imported');
  } finally {
    t.done();
  }
});

test('import: an unknown shape is refused naming what each kind expects', async () => {
  const t = setup();
  try {
    const f = F.write(t.dir, 'other.csv', 'Name,Email\r\nx,y\r\n', 'utf8');
    await assert.rejects(importFiles(t.db, [f]), (e: unknown) => {
      assert.ok(e instanceof ImportRefused);
      assert.match(e.message, /the header row matches no supported export/);
      assert.match(e.message, /found columns: Name, Email/);
      assert.match(e.message, /message-trace: Received, SenderAddress, RecipientAddress, Subject, Status, ToIP, FromIP, Size, MessageId, MessageTraceId/);
      assert.match(e.message, /historical-search: origin_timestamp_utc, sender_address, recipient_status/);
      assert.match(e.message, /inbound-report: Date, Connector direction and name/);
      assert.match(e.message, /email-events: Timestamp, NetworkMessageId/);
      return true;
    });
    const mt = F.write(t.dir, 'mt.csv', F.messageTraceText(now), 'utf8');
    await assert.rejects(importFiles(t.db, [mt], { kind: 'email-events' }), /not a email-events export: missing column\(s\) Timestamp, NetworkMessageId, RecipientEmailAddress/);
    assert.equal(count(t.db), 0);
  } finally {
    t.done();
  }
});

test('import: UTF-16 without BOM is sniffed; an undecodable file is refused', async () => {
  const t = setup();
  try {
    const s = await importFiles(t.db, [F.write(t.dir, 'nobom.csv', F.messageTraceText(now), 'utf16le')], { name: 'nobom', dateFormat: 'mdy' });
    assert.equal(s.files[0]?.encoding, 'no BOM, zero bytes at odd offsets: UTF-16 LE');
    assert.equal(s.files[0]?.inserted, 5);
    const latin1 = Buffer.from(F.messageTraceText(now, false).replace('Newsletter', 'Caf\u00e9'), 'latin1');
    const f = join(t.dir, 'latin1.csv');
    writeFileSync(f, latin1);
    await assert.rejects(importFiles(t.db, [f], { name: 'latin1' }), /latin1\.csv: is not valid UTF-8 .*re-export it as UTF-8 or UTF-16/);
  } finally {
    t.done();
  }
});

test('import: malformed rows are counted and listed with file, line and reason', async () => {
  const t = setup();
  try {
    const text = F.csv(F.MESSAGE_TRACE_HEADER, [
      ['3/4/2025 1:05:06 PM', 'a@contoso.com', 'b@contoso.com', 'ok', 'Delivered', '', '192.0.2.1', '1', '<1@x>', 'id-1'],
      ['not a date', 'a@contoso.com', 'b@contoso.com', 'bad time', 'Delivered', '', '192.0.2.1', '1', '<2@x>', 'id-2'],
      ['3/4/2025 1:05:06 PM', 'a@contoso.com', 'b@contoso.com', 'bad ip', 'Delivered', '', '999.1.1.1', '1', '<3@x>', 'id-3'],
      ['3/4/2025 1:05:06 PM', 'a@contoso.com'],
    ]);
    const f = F.write(t.dir, 'bad.csv', text, 'utf8');
    const s = await importFiles(t.db, [f], { dateFormat: 'mdy' });
    assert.equal(s.files[0]?.inserted, 1);
    assert.equal(s.malformedCount, 3);
    assert.deepEqual(s.malformed, [
      { file: f, line: 3, reason: 'unreadable received timestamp "not a date"' },
      { file: f, line: 4, reason: 'FromIP "999.1.1.1" is not an IP address' },
      { file: f, line: 5, reason: 'has 2 fields, the header has 10' },
    ]);
  } finally {
    t.done();
  }
});
