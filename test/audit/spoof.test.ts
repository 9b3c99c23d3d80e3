/**
 * @module test/audit/spoof.test
 * The spoof that Exchange itself held, through the real `mailgate` binary: a message trace export
 * (Windows PowerShell 5.1, UTF-16 LE) where the CFO's address is sent from an outside IP that the
 * tenant's SPF does not list and Exchange Quarantined or FilteredAsSpam every copy, plus a printer
 * the SPF record lists and an internal mailbox (blank FromIP). `report direct-send --spf` and
 * `audit plan` must call the CFO sender likely-spoof with "RejectDirectSend will stop it", and must
 * never advise an SMTP AUTH grant, a mailgate user, or a connector for it; alice (no FromIP) is
 * never a source.
 * Touches: temporary data directories; child processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';
import * as F from './fixtures.ts';

const SPF = 'v=spf1 ip4:203.0.113.0/26 -all';
const H = 3_600_000;

function exportText(now: number): string {
  const t = (h: number): string => F.usTime(now - h * H);
  const rows = [
    [t(20), 'cfo@contoso.com', 'ap@contoso.com', 'Urgent: wire today', 'Quarantined', '', '198.51.100.66', '2100', '<s1@evil>', '11111111-0000-0000-0000-000000000001'],
    [t(19), 'cfo@contoso.com', 'bob@contoso.com', 'Urgent: wire today', 'FilteredAsSpam', '', '198.51.100.66', '2100', '<s2@evil>', '11111111-0000-0000-0000-000000000002'],
    [t(18), 'scanner@contoso.com', 'alice@contoso.com', 'Scan', 'Delivered', '', '203.0.113.10', '52000', '<p1@printer>', '11111111-0000-0000-0000-000000000003'],
    // Mailbox to mailbox inside the tenant: no FromIP, no ToIP.
    [t(17), 'alice@contoso.com', 'bob@contoso.com', 'Lunch?', 'Delivered', '', '', '900', '<a1@contoso>', '11111111-0000-0000-0000-000000000004'],
  ];
  return '#TYPE Deserialized.Microsoft.Exchange.Management.ReportingTask.MessageTraceV2\r\n' + F.csv(F.MESSAGE_TRACE_HEADER, rows);
}

const DANGEROUS = /SmtpClientAuthenticationDisabled|Set-CASMailbox|user add/;

test('spoof/quarantine: the CFO sender Exchange held is likely-spoof, with nothing to migrate and no SMTP AUTH grant', () => {
  const dir = tempDir();
  assert.equal(cli(dir, ['init']).code, 0, 'mailgate init makes the data directory');
  try {
    const file = F.write(dir, 'trace.csv', exportText(Date.now()), 'utf16le-bom');
    const imp = cli(dir, ['audit', 'import', file, '--name', 't', '--tenant-domains', 'contoso.com', '--date-format', 'mdy']);
    assert.equal(imp.code, 0, imp.stderr);

    const rep = cli(dir, ['report', 'direct-send', '--since', '7d', '--source', 'import:t', '--spf', SPF, '--format', 'json']);
    assert.equal(rep.code, 0, rep.stderr);
    const out = JSON.parse(rep.stdout) as { summary: string[]; sources: Record<string, unknown>[] };
    assert.deepEqual(out.sources.map((s) => s.sender).sort(), ['cfo@contoso.com', 'scanner@contoso.com'], 'alice (blank FromIP) is never a source');
    const cfo = out.sources.find((s) => s.sender === 'cfo@contoso.com');
    assert.equal(cfo?.classification, 'likely-spoof');
    assert.deepEqual(cfo?.signals, ["organization's SPF: fail", 'Status FilteredAsSpam 1/2', 'Status Quarantined 1/2']);
    assert.equal(cfo?.recommendation, '# nothing to migrate: RejectDirectSend will stop it');
    assert.equal(cfo?.powershell, '# nothing to migrate: RejectDirectSend will stop it');
    assert.equal(out.sources.find((s) => s.sender === 'scanner@contoso.com')?.spfAuthorised, 'pass (ip4:203.0.113.0/26)', '--spf is used');
    assert.doesNotMatch(rep.stdout, DANGEROUS);
    assert.match(out.summary[0] ?? '', /from 2 sources \(1 of them likely spoof\)$/);
    assert.equal(cli(dir, ['report', 'direct-send', '--spf', 'include:x']).code, 2, 'a bad --spf is a usage error');

    for (const format of ['md', 'ps1']) {
      const plan = cli(dir, ['audit', 'plan', '--since', '7d', '--source', 'import:t', '--spf', SPF, '--tenant-domains', 'contoso.com', '--format', format]);
      assert.equal(plan.code, 0, plan.stderr);
      assert.doesNotMatch(plan.stdout, DANGEROUS, `${format}: no SMTP AUTH grant, no mailgate user`);
      assert.doesNotMatch(plan.stdout, /New-InboundConnector[^\n]*198\.51\.100\.66/, `${format}: no connector for the spoofer`);
      assert.doesNotMatch(plan.stdout, /alice@contoso\.com/, `${format}: nothing about the internal mailbox`);
      assert.match(plan.stdout, /2 likely spoof|1 likely spoof/, format);
      if (format === 'md') assert.match(plan.stdout, /\| 198\.51\.100\.66 \| cfo@contoso\.com \| 2 \| .* \| likely-spoof \| .* \| none \| # nothing to migrate: RejectDirectSend will stop it \|/);
    }
  } finally {
    removeDir(dir);
  }
});
