/**
 * The audit through the real CLI: `audit import` of a Windows PowerShell 5.1 message-trace export
 * (UTF-16 LE), then `report direct-send --source import:NAME` narrowing to it, then `audit plan`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';
import { messageTraceText, write } from './fixtures.ts';

test('audit import, report direct-send --source, audit plan', () => {
  const dir = tempDir();
  try {
    assert.equal(cli(dir, ['init']).code, 0, 'mailgate init creates the store the audit goes into');
    const file = write(dir, 'trace.csv', messageTraceText(Date.now()), 'utf16le-bom');
    const imp = cli(dir, ['audit', 'import', file, '--name', 'tenant1', '--tenant-domains', 'contoso.com', '--date-format', 'mdy']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout + imp.stderr, /message-trace/);
    const rep = cli(dir, ['report', 'direct-send', '--since', '7d', '--source', 'import:tenant1', '--format', 'json']);
    assert.equal(rep.code, 0, rep.stderr);
    const sources = (JSON.parse(rep.stdout) as { sources: unknown[] }).sources;
    assert.ok(sources.length > 0, 'the imported Direct Send sources are reported');
    const none = cli(dir, ['report', 'direct-send', '--since', '7d', '--source', 'gateway', '--format', 'json']);
    assert.deepEqual((JSON.parse(none.stdout) as { sources: unknown[] }).sources, [], 'no gateway traffic in this data dir');
    assert.equal(cli(dir, ['report', 'direct-send', '--source', 'somewhere']).code, 2);
    const out = join(dir, 'plan.md');
    const plan = cli(dir, ['audit', 'plan', '--since', '7d', '--source', 'import:tenant1', '--spf', 'v=spf1 ip4:192.0.2.0/24 -all', '--tenant-domains', 'contoso.com', '-o', out]);
    assert.equal(plan.code, 0, plan.stderr);
    const md = readFileSync(out, 'utf8');
    assert.match(md, /Set-OrganizationConfig -RejectDirectSend \$true/);
    assert.match(md, /Get-OrganizationConfig \| Select RejectDirectSend/);
  } finally {
    removeDir(dir);
  }
});
