/**
 * @module test/audit/datasets.test
 * Windows follow the data, through the real CLI: an export from May 2026 (older than the 90-day
 * trace retention) is imported as the data set `contoso` (audit list: file with SHA-256, kind,
 * rows, first/last, tenant domains); retention pruning leaves its rows (and still prunes an old
 * gateway row); `report direct-send`, `report inbound` and `audit plan` over `--source
 * import:contoso` default to its own time range and use its stored tenant domains; a window
 * holding no data says so and where the data is; `audit remove` deletes it.
 * Touches: a temporary data directory; child processes of the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../src/core/sqlite.ts';
import { importFiles, ImportRefused, listDatasets, removeDataset } from '../../src/audit/index.ts';
import { ensureTraceSchema, insertMessageSync, pruneTrace, retentionCutoff } from '../../src/trace/index.ts';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';
import * as X from './form-fixtures.ts';

interface Listed {
  name: string;
  kinds: string;
  rows: number;
  first: string;
  last: string;
  tenantDomains: string[];
  tenantHow: string;
  files: { file: string; sha256: string; kind: string; rows: number }[];
}

test('audit list/remove, retention, and reports and plan over an old import', () => {
  const dir = tempDir('mailgate-datasets-');
  assert.equal(cli(dir, ['init']).code, 0, 'mailgate init makes the data directory');
  try {
    const file = X.put(dir, 'contoso-may.csv', X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime), { delimiter: ';', type: 'Deserialized.Microsoft.Exchange.Management.ReportingTask.MessageTraceV2' }), 'utf16le-bom');
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    const imp = cli(dir, ['audit', 'import', file, '--name', 'contoso', '--tenant-domains', 'contoso.com']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, new RegExp(`  sha256: ${sha}\n`));
    assert.match(imp.stdout, /import:contoso now holds 5 message copies, 2026-05-06T09:00:00\.000Z to 2026-05-13T08:15:00\.000Z/);

    const list = JSON.parse(cli(dir, ['audit', 'list', '--format', 'json']).stdout) as Listed[];
    assert.equal(list.length, 1);
    assert.deepEqual(
      { ...list[0], files: list[0]!.files.map((f) => ({ file: f.file, sha256: f.sha256, kind: f.kind, rows: f.rows })) },
      {
        ...list[0],
        name: 'contoso', kinds: 'message-trace', rows: 5, first: '2026-05-06T09:00:00.000Z', last: '2026-05-13T08:15:00.000Z', tenantDomains: ['contoso.com'],
        tenantHow: 'given with --tenant-domains', files: [{ file, sha256: sha, kind: 'message-trace', rows: 5 }],
      },
    );
    assert.match(cli(dir, ['audit', 'list']).stdout, /contoso +message-trace +5 +2026-05-06T09:00:00\.000Z/);

    // Retention (as the gateway's owner process runs it) prunes old gateway rows, never imported ones.
    const db = openDatabase(join(dir, 'mailgate.db'));
    try {
      insertMessageSync(db, { id: 'Gold', connectionId: 'C', receivedAt: X.T.scan1, clientIp: '192.0.2.1', listener: 'mx', recipients: ['a@contoso.com'], status: 'Delivered', source: 'gateway' });
      assert.deepEqual(pruneTrace(db, retentionCutoff(90, Date.now()), 2), { messages: 1, events: 0 });
      assert.equal((db.prepare("SELECT count(*) AS n FROM trace_message WHERE source = 'import:contoso'").get() as { n: number }).n, 5);
    } finally {
      db.close();
    }

    // Over the import, no --since: the import's own range, not clamped to the retention.
    const ds = cli(dir, ['report', 'direct-send', '--source', 'import:contoso', '--format', 'json']);
    assert.equal(ds.code, 0, ds.stderr);
    assert.match(ds.stderr, /note: window: import:contoso's own time range 2026-05-06T09:00:00\.000Z to 2026-05-13T08:15:00\.000Z/);
    const dj = JSON.parse(ds.stdout) as { window: { since: string; clamped: boolean }; sources: { clientIp: string; sender: string; messages: number }[] };
    assert.deepEqual(dj.window.since, '2026-05-06T09:00:00.000Z');
    assert.deepEqual(
      dj.sources.map((s) => [s.clientIp, s.sender, s.messages]),
      [['203.0.113.10', 'scanner@contoso.com', 3], ['2a01:111:f403:c112::5', 'cfo@contoso.com', 1]],
    );
    const inb = JSON.parse(cli(dir, ['report', 'inbound', '--source', 'import:contoso', '--format', 'json']).stdout) as { summary: string[] };
    assert.deepEqual(inb.summary, ['total: 5 messages (5 accepted, 0 rejected)']);
    assert.equal(cli(dir, ['report', 'inbound', '--source', 'nowhere']).code, 2);

    // A window with no data says so and where the data is, in every report and the plan.
    const empty = JSON.parse(cli(dir, ['report', 'direct-send', '--format', 'json']).stdout) as { summary: string[]; sources: unknown[] };
    assert.deepEqual(empty.sources, []);
    assert.match(empty.summary[0] ?? '', /^no data in the window \S+ to \S+: import contoso holds 2026-05-06\.\.2026-05-13 \(5 rows\); use --source import:contoso \(its window defaults to its own time range\)$/);
    const emptyInb = JSON.parse(cli(dir, ['report', 'inbound', '--since', '7d', '--source', 'import:contoso', '--format', 'json']).stdout) as { summary: string[] };
    assert.match(emptyInb.summary[0] ?? '', /^no data in the window \S+ to \S+ for import:contoso: import contoso holds 2026-05-06\.\.2026-05-13 \(5 rows\); use --since 2026-05-06 \(or leave --since out/);

    // The plan over the import: its range, its stored tenant domains (no --tenant-domains here).
    const plan = cli(dir, ['audit', 'plan', '--source', 'import:contoso', '--spf', 'v=spf1 ip4:203.0.113.0/24 -all']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /Window: 2026-05-06T09:00:00\.000Z to 2026-05-13T08:15:00\.001Z; source: import:contoso\./);
    assert.match(plan.stdout, /Tenant domains: contoso\.com\./);
    assert.match(plan.stdout, /203\.0\.113\.10/);
    assert.doesNotMatch(plan.stdout, /no data in the window/);
    const stale = cli(dir, ['audit', 'plan', '--source', 'import:contoso', '--since', '7d', '--spf', 'v=spf1 -all']);
    assert.match(stale.stdout, /no data in the window \S+ to \S+ for import:contoso: import contoso holds 2026-05-06\.\.2026-05-13 \(5 rows\)/);

    const rm = cli(dir, ['audit', 'remove', 'contoso']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'removed import:contoso: 5 message copies, 0 Inbound messages report rows\n');
    assert.equal(cli(dir, ['audit', 'list']).stdout, 'no imports (mailgate audit import FILE... adds one)\n');
    const again = cli(dir, ['audit', 'remove', 'contoso']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no import named "contoso" \(imports: none\)/);
  } finally {
    removeDir(dir);
  }
});

test('audit import --date-format: an ambiguous file is a CliError naming the flag; a re-import keeps the tenant domains given before', () => {
  const dir = tempDir('mailgate-datasets-');
  assert.equal(cli(dir, ['init']).code, 0, 'mailgate init makes the data directory');
  try {
    const early = X.MESSAGES.filter((m) => m.at !== X.T.scan1);
    const file = X.put(dir, 'early.csv', X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime, early), { delimiter: ';' }));
    const refused = cli(dir, ['audit', 'import', file, '--name', 'early', '--tenant-domains', 'contoso.com']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the date format is ambiguous: .*pass --date-format dmy or --date-format mdy/);
    assert.equal(cli(dir, ['audit', 'import', file, '--name', 'early', '--date-format', 'sometimes']).code, 2);
    const ok = cli(dir, ['audit', 'import', file, '--name', 'early', '--date-format', 'dmy', '--tenant-domains', 'contoso.com']);
    assert.equal(ok.code, 0, ok.stderr);
    const re = cli(dir, ['audit', 'import', file, '--name', 'early', '--date-format', 'dmy']);
    assert.match(re.stdout, /tenant domains: contoso\.com \(given with --tenant-domains at an earlier import under this name\)/);
    // Text from the file reaches the terminal with its control characters shown, never interpreted.
    const evil = X.put(dir, 'evil.csv', `#TYPE Evil\x1b[2J\r\n${X.exportCsv(['Name\x1b]0;x\x07', 'Email'], [['x', 'y']])}`);
    const shown = cli(dir, ['audit', 'import', evil, '--name', 'evil']);
    assert.equal(shown.code, 1);
    assert.match(shown.stderr, /found columns: Name\\x1b\]0;x\\x07, Email/);
    assert.doesNotMatch(shown.stderr, /\x1b/);
    const typed = X.put(dir, 'typed.csv', `#TYPE Evil\x1b[2J\r\n${X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime))}`);
    const ok2 = cli(dir, ['audit', 'import', typed, '--name', 'typed']);
    assert.equal(ok2.code, 0, ok2.stderr);
    assert.match(ok2.stdout, /note: skipped the Windows PowerShell line "#TYPE Evil\?\[2J" \(line 1\)/);
    assert.doesNotMatch(ok2.stdout, /\x1b/);
  } finally {
    removeDir(dir);
  }
});

test('a refused file after good ones: the good ones are recorded as the data set, the refusal says so', async () => {
  const dir = tempDir('mailgate-datasets-');
  assert.equal(cli(dir, ['init']).code, 0, 'mailgate init makes the data directory');
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const good = X.put(dir, 'good.csv', X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime)));
    const bad = X.put(dir, 'bad.csv', 'Name,Email\r\nx,y\r\n');
    await assert.rejects(importFiles(db, [good, bad], { name: 'part', tenantDomains: ['contoso.com'] }), (e: unknown) => {
      assert.ok(e instanceof ImportRefused);
      assert.match(e.message, /bad\.csv: the header row matches no supported export/);
      assert.match(e.message, new RegExp(`\\(the file\\(s\\) before it were imported as import:part: ${good.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`));
      return true;
    });
    const sets = listDatasets(db);
    assert.deepEqual(sets.map((d) => [d.name, d.rows, d.files.map((f) => f.file), d.tenantDomains]), [['part', 5, [good], ['contoso.com']]]);
  } finally {
    db.close();
    removeDir(dir);
  }
});

test('an import into an empty trace builds the secondary indexes once at the end; into a used trace it never drops them', async () => {
  const dir = tempDir('mailgate-datasets-');
  assert.equal(cli(dir, ['init']).code, 0, 'mailgate init makes the data directory');
  const db = openDatabase(join(dir, 'mailgate.db'));
  const indexes = (): string[] =>
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trace_message' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  try {
    ensureTraceSchema(db);
    const all = indexes();
    assert.equal(all.length, 7);
    const f = X.put(dir, 'a.csv', X.exportCsv(X.V2_HEADER, X.v2Rows(X.frTime)));
    const seen: string[][] = [];
    await importFiles(db, [f], { name: 'a', tenantDomains: ['contoso.com'], progress: { write: () => seen.push(indexes()) }, progressIntervalMs: 0 });
    assert.deepEqual(seen[0], [], 'during the load no secondary index is kept (the import keys are deduped at the end)');
    assert.deepEqual(indexes(), all, 'every index is there again');
    // A refused file still leaves every index in place.
    removeDataset(db, 'a');
    await assert.rejects(importFiles(db, [X.put(dir, 'b.csv', 'Name,Email\r\nx,y\r\n')], { name: 'b' }), ImportRefused);
    assert.deepEqual(indexes(), all);
    // Into a trace holding rows (a gateway's), nothing is dropped.
    insertMessageSync(db, { id: 'G1', connectionId: 'C', receivedAt: Date.now(), clientIp: '192.0.2.1', listener: 'mx', recipients: ['a@contoso.com'], status: 'Delivered', source: 'gateway' });
    seen.length = 0;
    await importFiles(db, [f], { name: 'a', tenantDomains: ['contoso.com'], progress: { write: () => seen.push(indexes()) }, progressIntervalMs: 0 });
    assert.deepEqual(seen[0], all);
    assert.equal((db.prepare("SELECT count(*) AS n FROM trace_message WHERE source = 'import:a'").get() as { n: number }).n, 5);
  } finally {
    db.close();
    removeDir(dir);
  }
});
