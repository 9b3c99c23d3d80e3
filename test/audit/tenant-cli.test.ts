/**
 * @module test/audit/tenant-cli.test
 * The tenant's own configuration through the CLI: `audit import-config` of Windows PowerShell 5.1
 * files (UTF-16 LE, enum numbers), `audit lint` in every format, `audit plan` over an import whose
 * tenant already has a connector for one source (not planned twice, said to be covered, its IP
 * still excepted from the monitoring rule, the current RejectDirectSend stated), and `audit mirror`
 * whose output the real `mailgate config validate` accepts.
 * Touches: temporary data directories; child processes of the CLI (config validate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { registerAudit } from '../../src/cli/commands/audit.ts';
import type { CliIo } from '../../src/cli/context.ts';
import { CliError } from '../../src/cli/format.ts';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';
import * as F from './fixtures.ts';
import * as T from './tenant-fixtures.ts';

const now = Date.now();

async function run(data: string, args: string[]): Promise<{ out: string; err: string }> {
  const res = { out: '', err: '' };
  const io: CliIo = { out: { write: (s: string) => (res.out += s) }, err: { write: (s: string) => (res.err += s) }, stdin: Object.assign(Readable.from([]), { isTTY: false }) };
  const program = new Command('mailgate').exitOverride().option('--data <dir>', 'data directory', './data');
  program.configureOutput({ writeOut: (s) => (res.out += s), writeErr: (s) => (res.err += s) });
  registerAudit(program, io, { resolve: F.fakeResolve, now: () => now });
  await program.parseAsync(['--data', data, ...args], { from: 'user' });
  return res;
}

/** The five cmdlets' files of the fixture tenant (Windows PowerShell 5.1, Out-File: UTF-16 LE). */
function tenantFiles(dir: string): string[] {
  return [
    T.writeJson(dir, 'domains.json', [T.acceptedDomain('ps51', 'contoso.com', 'Authoritative', { Default: true })], 'ps51'),
    T.writeJson(dir, 'inbound.json', [T.inboundConnector('ps51', { name: "Scanner's floor 3", type: 'Partner', ips: ['203.0.113.10'], domains: ['contoso.com'], restrictIp: true }), T.inboundConnector('ps51', { name: 'Old', type: 'Partner', ips: ['203.0.113.20'], enabled: false }), T.inboundConnector('ps51', { name: 'App hosts', type: 'OnPremises', ips: ['2001:db8::/64'] })], 'ps51'),
    T.writeJson(dir, 'outbound.json', [T.outboundConnector('ps51', 'To on-prem', 'mail.contoso.com')], 'ps51'),
    T.writeJson(dir, 'org.json', [T.organizationConfig('ps51', false)], 'ps51'),
    T.writeJson(dir, 'rules.json', [
      T.transportRule('ps51', { name: 'DS monitor', mode: 'AuditAndNotify', fromScope: 'NotInOrganization', senderDomainIs: ['contoso.com'], location: 'Envelope', prependSubject: '[DS] ' }),
      T.transportRule('ps51', { name: 'Safe', fromScope: 'NotInOrganization', senderDomainIs: ['contoso.com'], location: 'HeaderOrEnvelope', quarantine: true }),
    ], 'ps51'),
  ];
}

test('audit import-config, lint (table, json, csv), plan over the import: a covered source is not planned twice', async () => {
  const data = tempDir();
  assert.equal(cli(data, ['init']).code, 0, 'mailgate init makes the data directory');
  try {
    const exports = [F.write(data, 'trace.csv', F.messageTraceText(now), 'utf16le-bom'), F.write(data, 'enhanced.csv', F.historicalText(now), 'utf8'), F.write(data, 'events.jsonl', F.emailEventsJsonLines(now), 'utf8')];
    const imp = await run(data, ['audit', 'import', ...exports, '--name', 'tenant1', '--tenant-domains', 'contoso.com', '--date-format', 'mdy']);
    assert.match(imp.out, /imported as import:tenant1/);
    const ic = await run(data, ['audit', 'import-config', ...tenantFiles(data)]);
    assert.match(ic.out, /^tenant configuration "tenant1"\n/, 'the only import names the tenant');
    assert.match(ic.out, /domains\.json: Get-AcceptedDomain, UTF-16 LE BOM; 1 object\(s\)\n/);
    assert.match(ic.out, /inbound\.json: Get-InboundConnector, UTF-16 LE BOM; 3 object\(s\)\n {2}note: SenderDomains address spaces like smtp:\*;1 read as their domain \(\*\)\n/);
    assert.match(ic.out, /RejectDirectSend: \$false\n/);
    assert.match(ic.out, /transport rules: 2; findings: 1 \(mailgate audit lint --tenant tenant1\)\n/);

    const table = await run(data, ['audit', 'lint']);
    assert.match(table.out, /warning +audit-mode-action +DS monitor/);
    const json = JSON.parse((await run(data, ['audit', 'lint', '--format', 'json'])).out) as { code: string; rule: string; fix: string }[];
    assert.deepEqual(json.map((f) => [f.code, f.rule, f.fix]), [['audit-mode-action', 'DS monitor', "Set-TransportRule -Identity 'DS monitor' -Mode Enforce   # only once the hits in the message trace show it matches what you expect"]]);
    const csv = (await run(data, ['audit', 'lint', '--format', 'csv'])).out.split('\r\n');
    assert.equal(csv[0], 'severity,code,rule,priority,message,fix');
    assert.match(csv[1] ?? '', /^warning,audit-mode-action,DS monitor,0,/);

    const md = (await run(data, ['audit', 'plan', '--source', 'import:tenant1', '--since', '7d', '--spf', F.TENANT_SPF])).out;
    assert.doesNotMatch(md, /New-InboundConnector -Name "Direct Send 203\.0\.113\.10"/, 'the covered source is not planned again');
    assert.match(md, /New-InboundConnector -Name "Direct Send 203\.0\.113\.20"/, 'a disabled connector covers nothing');
    assert.match(md, /203\.0\.113\.10 \([^)]*@contoso\.com\) is covered by connector "Scanner's floor 3" \(Partner, by IP 203\.0\.113\.10\): not planned again\./);
    assert.match(md, /Tenant "tenant1": RejectDirectSend is currently \$false \(Get-OrganizationConfig\)\./);
    assert.match(md, /Transport rule "DS monitor" \[warning audit-mode-action\]/);
    assert.match(md, /-ExceptIfSenderIpRanges [^\n]*203\.0\.113\.10/, 'the covered source stays excepted from the monitoring rule');
    const refused = md.slice(md.indexOf('Sources without a connector'), md.indexOf('\n#', md.indexOf('Sources without a connector') + 1));
    assert.match(refused, /198\.51\.100\.66/, 'the spoof is still refused');
    assert.doesNotMatch(refused, /2001:db8::25/, 'a source an OnPremises connector covers is not among those RejectDirectSend will refuse');
  } finally {
    removeDir(data);
  }
});

test('audit mirror writes a configuration the real `config validate` accepts; unknown tenants and missing kinds are CLI errors', async () => {
  const data = tempDir();
  assert.equal(cli(data, ['init']).code, 0, 'mailgate init makes the data directory');
  try {
    await assert.rejects(run(data, ['audit', 'lint']), (e: unknown) => e instanceof CliError && /no tenant configuration imported/.test(e.message));
    await run(data, ['audit', 'import-config', '--tenant', 'contoso', ...tenantFiles(data)]);
    await assert.rejects(run(data, ['audit', 'mirror', '--tenant', 'fabrikam']), (e: unknown) => e instanceof CliError && /no tenant configuration "fabrikam" \(imported: contoso/.test(e.message));
    const file = `${data}/mirror.yaml`;
    const m = await run(data, ['audit', 'mirror', '-o', file]);
    assert.match(m.err, /not mirrored: outbound connector "To on-prem" \(smart hosts mail\.contoso\.com\)/);
    assert.match(m.err, /not mirrored: transport rule "DS monitor" \(AuditAndNotify, enabled\)/);
    assert.match(m.err, /wrote .*mirror\.yaml: 1 accepted domain\(s\), 3 inbound connector\(s\), rejectDirectSend false/);
    const yaml = readFileSync(file, 'utf8');
    assert.match(yaml, /^# mailgate configuration mirrored from tenant "contoso"/);
    assert.match(yaml, /# not mirrored: transport rule "Safe"/);
    assert.match(yaml, /- name: Scanner's floor 3\n {4}connectorType: Partner\n {4}senderIPAddresses: \[203\.0\.113\.10\]/);
    const v = cli(data, ['config', 'validate', '-f', file]);
    assert.equal(v.code, 0, v.stderr + v.stdout);

    // A second tenant: commands must then be told which one.
    await run(data, ['audit', 'import-config', '--tenant', 'fabrikam', T.writeJson(data, 'f-org.json', [T.organizationConfig('ps7', true)], 'ps7')]);
    await assert.rejects(run(data, ['audit', 'lint']), (e: unknown) => e instanceof CliError && /several tenant configurations are stored \(contoso, fabrikam\): name one with --tenant/.test(e.message));
    const plan = (await run(data, ['audit', 'plan', '--tenant', 'fabrikam', '--since', '7d', '--spf', F.TENANT_SPF])).out;
    assert.match(plan, /Tenant "fabrikam": RejectDirectSend is already \$true/);
    await assert.rejects(run(data, ['audit', 'lint', '--tenant', 'fabrikam']), (e: unknown) => e instanceof CliError && /tenant "fabrikam" has no Get-TransportRule output imported/.test(e.message));
  } finally {
    removeDir(data);
  }
});
