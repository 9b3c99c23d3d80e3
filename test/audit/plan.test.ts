/**
 * @module test/audit/plan.test
 * `mailgate audit import` then `mailgate audit plan` through commander on the fixture tenant
 * (contoso.com, SPF given with --spf, DNS faked): the PowerShell checked line by line, the KQL,
 * the Markdown and HTML documents, and the import summary a user sees (including CliError for an
 * unknown file).
 * Touches: temporary data directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { registerAudit } from '../../src/cli/commands/audit.ts';
import { openContext, type CliIo } from '../../src/cli/context.ts';
import { CliError } from '../../src/cli/format.ts';
import { planKql, planScript, planSteps, plannedConnectors, transportRule } from '../../src/audit/index.ts';
import * as F from './fixtures.ts';

const now = Date.now();

/** A data directory with a store, as `mailgate init` makes it. */
function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-audit-cli-'));
  openContext({ data: dir, create: true }).close();
  return dir;
}

async function run(data: string, args: string[]): Promise<{ out: string; err: string }> {
  const res = { out: '', err: '' };
  const io: CliIo = {
    out: { write: (s: string) => (res.out += s) },
    err: { write: (s: string) => (res.err += s) },
    stdin: Object.assign(Readable.from([]), { isTTY: false }),
  };
  const program = new Command('mailgate').exitOverride().option('--data <dir>', 'data directory', './data');
  program.configureOutput({ writeOut: (s) => (res.out += s), writeErr: (s) => (res.err += s) });
  registerAudit(program, io, { resolve: F.fakeResolve, now: () => now });
  await program.parseAsync(['--data', data, ...args], { from: 'user' });
  return res;
}

const EXPECTED_SCRIPT = [
  '# 1. Partner inbound connectors for the legitimate sources',
  'New-InboundConnector -Name "Direct Send 203.0.113.20" -ConnectorType Partner -SenderDomains contoso.com -SenderIPAddresses 203.0.113.20 -RestrictDomainsToIPAddresses $true',
  'New-InboundConnector -Name "Direct Send 203.0.113.10" -ConnectorType Partner -SenderDomains contoso.com -SenderIPAddresses 203.0.113.10 -RestrictDomainsToIPAddresses $true',
  'New-InboundConnector -Name "Direct Send 203.0.113.30" -ConnectorType Partner -SenderDomains contoso.com -SenderIPAddresses 203.0.113.30 -RestrictDomainsToIPAddresses $true',
  'New-InboundConnector -Name "Direct Send 198.51.100.7" -ConnectorType Partner -SenderDomains contoso.com -SenderIPAddresses 198.51.100.7 -RestrictDomainsToIPAddresses $true',
  '# 2. Quarantine mail from unapproved sources for a monitoring period',
  "New-TransportRule -Name \"Quarantine Direct Send from unapproved sources\" -FromScope NotInOrganization -SenderDomainIs contoso.com -Quarantine $true -ExceptIfHeaderContainsMessageHeader 'X-MS-Exchange-Organization-AuthAs' -ExceptIfHeaderContainsWords 'Internal' -ExceptIfSenderIpRanges 203.0.113.20,203.0.113.10,203.0.113.30,198.51.100.7 -StopRuleProcessing $true -Priority 0",
  '# 3. Turn on RejectDirectSend',
  'Set-OrganizationConfig -RejectDirectSend $true',
  '# 4. Check',
  'Get-OrganizationConfig | Select RejectDirectSend',
];

function fencedBlocks(md: string, lang: string): string[][] {
  const out: string[][] = [];
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```', 'g');
  for (const m of md.matchAll(re)) out.push((m[1] ?? '').split('\n'));
  return out;
}

test('audit import + plan (md): sources, PowerShell line by line, KQL', async () => {
  const data = newDataDir();
  try {
    const files = [
      F.write(data, 'trace.csv', F.messageTraceText(now), 'utf16le-bom'),
      F.write(data, 'enhanced.csv', F.historicalText(now), 'utf8'),
      F.write(data, 'extended.csv', F.extendedText(now), 'utf16le'),
      F.write(data, 'inbound.csv', F.inboundReportText(now), 'utf8-bom'),
      F.write(data, 'events.jsonl', F.emailEventsJsonLines(now), 'utf8'),
    ];
    const imp = await run(data, ['audit', 'import', ...files, '--name', 'tenant1', '--tenant-domains', 'contoso.com']);
    assert.match(imp.out, /^imported as import:tenant1\n/);
    assert.match(imp.out, /trace\.csv: message-trace, UTF-16 LE BOM; 5 row\(s\): 5 message copies added, 0 already present, 0 malformed\n/);
    assert.match(imp.out, /tenant domains: contoso\.com \(given with --tenant-domains\)\n/);
    assert.match(imp.out, /direct-send copies in this import: 11\n/);

    const md = (await run(data, ['audit', 'plan', '--source', 'import:tenant1', '--since', '7d', '--spf', F.TENANT_SPF])).out;
    const ps = fencedBlocks(md, 'powershell');
    assert.deepEqual(ps[ps.length - 1], EXPECTED_SCRIPT, 'the whole script, in order');
    assert.deepEqual(ps.slice(0, 4).flat(), EXPECTED_SCRIPT.filter((l) => !l.startsWith('# ')), 'one block per step');
    assert.match(md, /^# Direct Send migration plan\n/);
    assert.match(md, /\| contoso\.com \| v=spf1 ip4:203\.0\.113\.0\/26 include:spf\.vendor\.example -all \| given with --spf \|/);
    assert.match(md, /\| 198\.51\.100\.7 \| bounce@contoso\.com \| 1 \| .* \| pass \(include:spf\.vendor\.example\) \| third-party-service \|/);
    assert.match(md, /\| 198\.51\.100\.66 \| ceo@contoso\.com \| 2 \| .* \| likely-spoof \| .* \| block \| Set-HostedConnectionFilterPolicy -Identity Default -IPBlockList @\{Add="198\.51\.100\.66"\} \|/);
    assert.match(md, /\| 2001:db8::25 \| app@contoso\.com \| .* \| smtp-auth \| Set-CASMailbox -Identity "app@contoso\.com" -SmtpClientAuthenticationDisabled \$false \|/);
    assert.match(md, /\| NoConnector \| Inbound - NoConnector \| 2 \| 660 \| 20 \|/);
    const kql = fencedBlocks(md, 'kql');
    assert.deepEqual(kql[0], [
      'EmailEvents',
      '| where Timestamp > ago(7d)',
      '| where EmailDirection == "Inbound" and Connectors == "" and isnotempty(SenderIPv4)',
      '| where SenderMailFromDomain in ("contoso.com")',
      '| project Timestamp, RecipientEmailAddress, SenderMailFromAddress, Subject, NetworkMessageId, EmailDirection, Connectors, SenderIPv4',
    ]);
    assert.equal(kql[1]?.at(-1), '| summarize count() by SenderIPv4');
    assert.equal(kql[3]?.at(-2), '| where SenderIPv4 !in ("203.0.113.20", "203.0.113.10", "203.0.113.30", "198.51.100.7")');

    const out = join(data, 'plan.html');
    const r = await run(data, ['audit', 'plan', '--format', 'html', '-o', out, '--since', '7d', '--spf', F.TENANT_SPF, '--tenant-domains', 'contoso.com']);
    assert.match(r.err, /plan\.html: 6 source\(s\), 4 connector\(s\)/);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.ok(html.includes('<pre><code class="language-powershell">' + EXPECTED_SCRIPT.map((l) => l.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')).join('\n') + '</code></pre>'));
    assert.ok(html.includes('<td>Report &quot;daily&quot;</td>') || !html.includes('Report "daily"'), 'values are escaped');
    assert.ok(!html.includes('<script'));
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('audit import: an unknown file is a CliError naming the expected columns', async () => {
  const data = newDataDir();
  try {
    const f = F.write(data, 'x.csv', 'a,b\r\n1,2\r\n', 'utf8');
    await assert.rejects(run(data, ['audit', 'import', f]), (e: unknown) => e instanceof CliError && /matches no supported export[\s\S]*message-trace: Received/.test(e.message));
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('plan pieces: certificate and IPv6 connectors, broad rule, no sources', () => {
  const base = { sender: 'a@contoso.com', senderDomain: 'contoso.com', certCn: '', classification: 'device-or-app' } as const;
  const src = (clientIp: string, more: object = {}) => ({ ...base, clientIp, ...more }) as unknown as Parameters<typeof plannedConnectors>[0][number];
  const c = plannedConnectors([src('192.0.2.1'), src('192.0.2.1', { sender: 'b@fabrikam.com', senderDomain: 'fabrikam.com' }), src('2001:db8::1'), src('::ffff:10.0.0.9', { certCn: 'scanner.contoso.com' }), src('192.0.2.9', { classification: 'likely-spoof' })]);
  assert.deepEqual(c.map((x) => x.command), [
    'New-InboundConnector -Name "Direct Send 192.0.2.1" -ConnectorType Partner -SenderDomains contoso.com,fabrikam.com -SenderIPAddresses 192.0.2.1 -RestrictDomainsToIPAddresses $true',
    "# Direct Send 2001:db8::1: Exchange Online's SenderIPAddresses takes IPv4 only; give this source a certificate connector (-TlsSenderCertificateName … -RestrictDomainsToCertificate $true) or move it to SMTP AUTH",
    'New-InboundConnector -Name "Direct Send scanner.contoso.com" -ConnectorType Partner -SenderDomains contoso.com -TlsSenderCertificateName scanner.contoso.com -RestrictDomainsToCertificate $true -RequireTls $true',
  ]);
  assert.equal(
    transportRule('broad', ['contoso.com'], ['192.0.2.1']),
    "New-TransportRule -Name \"Redirect to quarantine if not coming from known IPs\" -Quarantine $true -ExceptIfHeaderContainsMessageHeader 'X-MS-Exchange-Organization-AuthAs' -ExceptIfHeaderContainsWords 'Internal' -ExceptIfSenderIpRanges 192.0.2.1 -StopRuleProcessing $true -Priority 0",
  );
  assert.deepEqual(planScript(planSteps([], 'narrow', ['contoso.com'], [])), [
    '# 1. Partner inbound connectors for the legitimate sources',
    '# no legitimate Direct Send source found: no connector needed',
    '# 2. Quarantine mail from unapproved sources for a monitoring period',
    "New-TransportRule -Name \"Quarantine Direct Send from unapproved sources\" -FromScope NotInOrganization -SenderDomainIs contoso.com -Quarantine $true -ExceptIfHeaderContainsMessageHeader 'X-MS-Exchange-Organization-AuthAs' -ExceptIfHeaderContainsWords 'Internal' -StopRuleProcessing $true -Priority 0",
    '# 3. Turn on RejectDirectSend',
    'Set-OrganizationConfig -RejectDirectSend $true',
    '# 4. Check',
    'Get-OrganizationConfig | Select RejectDirectSend',
  ]);
  assert.equal(planKql(['contoso.com', 'fabrikam.com'], [], 30).length, 3);
});
