/**
 * @module test/audit/forms.test
 * Every export form of reference §5.5 imported from bytes written here, asserted row by row: the
 * same messages give the same trace rows whatever the form (PowerShell 5.1 and 7 Export-Csv with
 * `#TYPE`, `,` `;` or tab, UTF-8 with and without BOM, UTF-16 LE and BE; V1 Get-MessageTrace;
 * V2 ConvertTo-Json with `@data.type` sidecars; Graph pages; historical search MTSummary and the
 * 27-column MTDetail; EmailEvents from Graph runHuntingQuery, the streaming envelope in both
 * layouts and the portal CSV; Change Optics). Overlapping pages and files count once; a file that
 * is none of these is refused naming the closest kind and the columns it lacks.
 * Touches: temporary directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/core/sqlite.ts';
import { importFiles, ImportRefused } from '../../src/audit/index.ts';
import * as X from './form-fixtures.ts';

function setup(): { dir: string; db: Db; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-forms-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  return { dir, db, done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** The trace rows, one compact line each, sorted. */
function traceRows(db: Db): string[] {
  const rows = db
    .prepare('SELECT received_at, listener, client_ip, mail_from, recipients, status, attribution, spf, dkim, dmarc FROM trace_message ORDER BY received_at, recipients')
    .all() as { received_at: number; listener: string; client_ip: string; mail_from: string; recipients: string; status: string; attribution: string; spf: string | null; dkim: string | null; dmarc: string | null }[];
  return rows.map((r) => {
    const auth = [r.spf, r.dkim, r.dmarc].some((v) => v !== null) ? ` spf=${r.spf} dkim=${r.dkim} dmarc=${r.dmarc}` : '';
    return `${new Date(r.received_at).toISOString()} ${r.listener} ${r.client_ip || '-'} ${r.mail_from} > ${(JSON.parse(r.recipients) as string[]).join(',')} ${r.status} ${r.attribution}${auth}`;
  });
}

/** What every message-trace form of the fixture messages must give. */
const TRACE = [
  '2026-05-06T09:00:00.000Z exo:inbound 203.0.113.10 scanner@contoso.com > alice@contoso.com Delivered direct-send',
  '2026-05-07T22:01:22.000Z exo:inbound 2a01:111:f403:c112::5 cfo@contoso.com > bob@contoso.com Quarantined direct-send',
  '2026-05-08T10:30:00.000Z exo:outbound - alice@contoso.com > partner@fabrikam.example Delivered authenticated',
  '2026-05-13T08:15:00.000Z exo:inbound 203.0.113.10 scanner@contoso.com > alice@contoso.com Delivered direct-send',
  '2026-05-13T08:15:00.000Z exo:inbound 203.0.113.10 scanner@contoso.com > bob@contoso.com Delivered direct-send',
];

const TYPE_V2 = 'Deserialized.Microsoft.Exchange.Management.ReportingTask.MessageTraceV2';

const TRACE_FORMS: { name: string; file: string; bytes: () => Buffer; encoding: string; note?: RegExp }[] = [
  {
    name: 'Windows PowerShell 5.1 Export-Csv -UseCulture (de-DE): #TYPE, ";", UTF-16 LE BOM, 13.05.2026',
    file: 'de.csv',
    bytes: () => X.bytesOf(X.exportCsv(X.V2_HEADER, X.v2Rows(X.deTime), { delimiter: ';', type: TYPE_V2 }), 'utf16le-bom'),
    encoding: 'UTF-16 LE BOM',
    note: /delimiter ";"/,
  },
  {
    name: 'Export-Csv -UseCulture (fr-FR) -Encoding BigEndianUnicode: ";", UTF-16 BE BOM, 13/05/2026',
    file: 'fr.csv',
    bytes: () => X.bytesOf(X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime), { delimiter: ';', type: TYPE_V2 }), 'utf16be-bom'),
    encoding: 'UTF-16 BE BOM',
  },
  {
    name: 'PowerShell 7 Export-Csv (en-US): ",", UTF-8 without BOM, no #TYPE, 5/13/2026 8:15:00 AM',
    file: 'ps7.csv',
    bytes: () => X.bytesOf(X.exportCsv(X.V2_HEADER, X.v2Rows(X.usTime)), 'utf8'),
    encoding: 'no BOM, no zero bytes: UTF-8',
  },
  {
    name: 'Export-Csv -Delimiter tab (nl-NL): UTF-8 BOM, 13-5-2026',
    file: 'nl.tsv',
    bytes: () => X.bytesOf(X.exportCsv(X.V2_HEADER, X.v2Rows(X.nlTime), { delimiter: '\t' }), 'utf8-bom'),
    encoding: 'UTF-8 BOM',
    note: /delimiter tab/,
  },
  {
    name: 'V1 Get-MessageTrace through remote PowerShell (PSComputerName … Index), #TYPE, UTF-16 LE',
    file: 'v1.csv',
    bytes: () => X.bytesOf(X.exportCsv(X.V1_HEADER, X.v1Rows(X.usTime), { type: 'Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace' }), 'utf16le-bom'),
    encoding: 'UTF-16 LE BOM',
  },
  {
    name: 'Get-MessageTraceV2 | ConvertTo-Json with Received@data.type / Size@data.type sidecars',
    file: 'v2.json',
    bytes: () => X.bytesOf(X.v2Json(), 'utf8'),
    encoding: 'no BOM, no zero bytes: UTF-8',
  },
  {
    name: 'Graph message trace pages {"value":[…], "@odata.nextLink"} (camelCase), overlapping',
    file: 'graph.json',
    bytes: () => X.bytesOf(X.graphPages().join('\n'), 'utf8'),
    encoding: 'no BOM, no zero bytes: UTF-8',
    note: /@odata\.nextLink .*more pages exist/,
  },
  {
    name: 'historical search MTSummary (directionality Incoming/Originating), UTF-16 LE BOM',
    file: 'MTSummary_Report.csv',
    bytes: () => X.bytesOf(X.exportCsv(X.SUMMARY_HEADER, X.summaryRows()), 'utf16le-bom'),
    encoding: 'UTF-16 LE BOM',
  },
];

for (const form of TRACE_FORMS) {
  test(`form: ${form.name}`, async () => {
    const t = setup();
    try {
      const f = join(t.dir, form.file);
      writeFileSync(f, form.bytes());
      const s = await importFiles(t.db, [f], { name: 'contoso', tenantDomains: ['contoso.com'] });
      assert.equal(s.malformedCount, 0, JSON.stringify(s.malformed));
      assert.equal(s.files[0]?.encoding, form.encoding);
      assert.deepEqual(traceRows(t.db), TRACE);
      if (form.note) assert.ok(s.files[0]?.notes.some((n) => form.note!.test(n)), s.files[0]?.notes.join('\n'));
      assert.equal(s.directSend, 4);
    } finally {
      t.done();
    }
  });
}

test('form: Graph pages that overlap, and overlapping files, count each (id, recipient) once', async () => {
  const t = setup();
  try {
    const files = [
      X.put(t.dir, 'graph.json', X.graphPages().join('\n')),
      X.put(t.dir, 'fr.csv', X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime), { delimiter: ';', type: TYPE_V2 }), 'utf16le-bom'),
      X.put(t.dir, 'v1.csv', X.exportCsv(X.V1_HEADER, X.v1Rows(X.usTime)), 'utf8'),
    ];
    const s = await importFiles(t.db, files, { name: 'contoso', tenantDomains: ['contoso.com'] });
    assert.deepEqual(s.files.map((f) => [f.rows, f.inserted, f.duplicates]), [[6, 5, 1], [5, 0, 5], [5, 0, 5]]);
    assert.deepEqual(traceRows(t.db), TRACE);
  } finally {
    t.done();
  }
});

test('form: historical search MTDetail, the 27 columns: a display name in recipient_status, message_info over two lines, custom_data', async () => {
  const t = setup();
  try {
    const f = X.put(t.dir, 'MTDetail_Report.csv', X.exportCsv(X.DETAIL_HEADER, X.detailRows()), 'utf16le-bom');
    const s = await importFiles(t.db, [f], { name: 'detail', tenantDomains: ['contoso.com'] });
    assert.equal(s.files[0]?.kind, 'extended-report');
    assert.equal(s.malformedCount, 0);
    assert.deepEqual(traceRows(t.db), [
      '2026-05-06T09:00:00.000Z exo:inbound 203.0.113.10 copier@contoso.com > dave@contoso.com Delivered direct-send spf=pass dkim=none dmarc=pass',
      '2026-05-06T09:00:00.000Z exo:inbound 203.0.113.10 copier@contoso.com > erin@contoso.com Failed direct-send spf=pass dkim=none dmarc=pass',
    ]);
  } finally {
    t.done();
  }
});

const EVENTS = [
  '2026-05-07T22:01:22.000Z exo:inbound 2a01:111:f403:c112::5 cfo@contoso.com > bob@contoso.com Quarantined direct-send spf=fail dkim=null dmarc=fail',
  '2026-05-13T08:15:00.000Z exo:inbound 203.0.113.10 scanner@contoso.com > alice@contoso.com Delivered direct-send spf=null dkim=none dmarc=none',
];

const EVENT_FORMS: { name: string; text: () => string; form?: RegExp }[] = [
  {
    name: 'Graph runHuntingQuery {"schema","results"}',
    text: () => JSON.stringify({ schema: X.EE_COLUMNS.map((c) => ({ Name: c, Type: 'String' })), results: X.emailEventRecords() }, null, 2),
    form: /runHuntingQuery/,
  },
  { name: 'streaming {"records":[{…, "properties"}]}', text: () => JSON.stringify({ records: X.emailEventRecords().map(X.envelope) }), form: /streaming \{"records"/ },
  { name: 'streaming envelope, one per line', text: () => X.emailEventRecords().map((r) => JSON.stringify(X.envelope(r))).join('\n') + '\n', form: /streaming envelope/ },
  {
    name: 'the Defender portal CSV (Connectors "", IsFirstContact True)',
    text: () => X.exportCsv(X.EE_COLUMNS, X.emailEventRecords().map((r) => X.EE_COLUMNS.map((c) => (r[c] === null ? '' : typeof r[c] === 'boolean' ? (r[c] ? 'True' : 'False') : String(r[c]))))),
  },
];

for (const form of EVENT_FORMS) {
  test(`form: EmailEvents, ${form.name}: Connectors null or "", IsFirstContact boolean, AuthenticationDetails a JSON string with some keys`, async () => {
    const t = setup();
    try {
      const s = await importFiles(t.db, [X.put(t.dir, 'events.json', form.text())], { name: 'ee', tenantDomains: ['contoso.com'] });
      assert.equal(s.files[0]?.kind, 'email-events');
      assert.equal(s.malformedCount, 0, JSON.stringify(s.malformed));
      assert.deepEqual(traceRows(t.db), EVENTS);
      if (form.form) assert.ok(s.files[0]?.notes.some((n) => form.form!.test(n)), s.files[0]?.notes.join('\n'));
    } finally {
      t.done();
    }
  });
}

test('form: Change Optics detail grid export (DRS = Direct Send, OMC = onmicrosoft.com sent outside)', async () => {
  const t = setup();
  try {
    const f = X.put(t.dir, 'changeoptics.csv', X.exportCsv(X.CHANGE_OPTICS_HEADER, X.changeOpticsRows(X.frTime)), 'utf8-bom');
    const s = await importFiles(t.db, [f], { name: 'co', tenantDomains: ['contoso.com'] });
    assert.equal(s.files[0]?.kind, 'change-optics');
    assert.equal(s.malformedCount, 0);
    assert.deepEqual(traceRows(t.db), [
      '2026-05-08T10:30:00.000Z exo:outbound - noreply@contoso.onmicrosoft.com > someone@fabrikam.example Received authenticated',
      '2026-05-13T08:15:00.000Z exo:inbound 203.0.113.10 scanner@contoso.com > alice@contoso.com Received direct-send',
    ]);
  } finally {
    t.done();
  }
});

test('form: a file that is none of these is refused naming the closest kind and the columns it lacks', async () => {
  const t = setup();
  try {
    const f = X.put(t.dir, 'mystery.csv', X.exportCsv(['Received', 'SenderAddress', 'Recipient', 'Subject', 'FromIP'], [[X.frTime(X.T.scan1), 'a@contoso.com', 'b@contoso.com', 's', '192.0.2.1']], { delimiter: ';' }));
    await assert.rejects(importFiles(t.db, [f]), (e: unknown) => {
      assert.ok(e instanceof ImportRefused);
      assert.match(e.message, /mystery\.csv: the header row matches no supported export; closest: message-trace, which also needs column\(s\) RecipientAddress, Status\n/);
      assert.match(e.message, /found columns: Received, SenderAddress, Recipient, Subject, FromIP/);
      return true;
    });
    const co = X.put(t.dir, 'co-cut.csv', X.exportCsv(['Message ID', 'Sender', 'Recipient', 'Subject', 'Time Stamp'], []));
    await assert.rejects(importFiles(t.db, [co]), /closest: change-optics, which also needs column\(s\) Tag\n/);
    assert.equal((t.db.prepare('SELECT count(*) AS n FROM trace_message').get() as { n: number }).n, 0);
  } finally {
    t.done();
  }
});
