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
import { planKql, planStages, plannedConnectors, stepForSource, transportRule } from '../../src/audit/index.ts';
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

/** Stage 1 of the fixture tenant: the connectors, none restricted; the vendor's manual step. */
const STAGE1 = [
  'New-InboundConnector -Name "Direct Send 203.0.113.20" -ConnectorType Partner -SenderDomains contoso.com -SenderIPAddresses 203.0.113.20 -RestrictDomainsToIPAddresses $false',
  'New-InboundConnector -Name "Direct Send 203.0.113.10" -ConnectorType Partner -SenderDomains contoso.com -SenderIPAddresses 203.0.113.10 -RestrictDomainsToIPAddresses $false',
  'New-InboundConnector -Name "Direct Send 203.0.113.30" -ConnectorType Partner -SenderDomains contoso.com -SenderIPAddresses 203.0.113.30 -RestrictDomainsToIPAddresses $false',
  '# manual: bounce@contoso.com from 198.51.100.7: New-InboundConnector -Name "Direct Send spf.vendor.example" -ConnectorType Partner -SenderDomains contoso.com -SenderIPAddresses <the ranges the service documents for your account (include:spf.vendor.example); not the one address seen> -RestrictDomainsToIPAddresses $false',
];
const RULE =
  "New-TransportRule -Name \"Monitor Direct Send from unapproved sources\" -Mode Audit -FromScope NotInOrganization -SenderDomainIs contoso.com -SenderAddressLocation Envelope -Quarantine $true -ExceptIfHeaderContainsMessageHeader 'X-MS-Exchange-Organization-AuthAs' -ExceptIfHeaderContainsWords 'Internal' -ExceptIfSenderIpRanges 203.0.113.20,203.0.113.10,203.0.113.30 -Priority 0";
const STAGE3 = [
  'Set-InboundConnector -Identity "Direct Send 203.0.113.20" -RestrictDomainsToIPAddresses $true',
  '# rollback: Set-InboundConnector -Identity "Direct Send 203.0.113.20" -RestrictDomainsToIPAddresses $false',
  'Set-InboundConnector -Identity "Direct Send 203.0.113.10" -RestrictDomainsToIPAddresses $true',
  '# rollback: Set-InboundConnector -Identity "Direct Send 203.0.113.10" -RestrictDomainsToIPAddresses $false',
  'Set-InboundConnector -Identity "Direct Send 203.0.113.30" -RestrictDomainsToIPAddresses $true',
  '# rollback: Set-InboundConnector -Identity "Direct Send 203.0.113.30" -RestrictDomainsToIPAddresses $false',
  'Set-OrganizationConfig -RejectDirectSend $true',
  '# rollback: Set-OrganizationConfig -RejectDirectSend $false',
];

/** Index of the first line matching re (−1 when none). */
const lineOf = (lines: readonly string[], re: RegExp): number => lines.findIndex((l) => re.test(l));

/**
 * The safety of a plan's text, in md or ps1 form: connectors unrestricted first, then the audit-mode
 * rule, then (after) restrictions and RejectDirectSend, each followed by its rollback; nothing enforcing earlier.
 */
function assertStagedOrder(text: string, form: string): void {
  const lines = text.split('\n').map((l) => l.trim());
  const firstConnector = lineOf(lines, /^New-InboundConnector /);
  const rule = lineOf(lines, /^New-TransportRule /);
  const firstRestrict = lineOf(lines, /^Set-InboundConnector .*\$true$/);
  const reject = lineOf(lines, /^Set-OrganizationConfig -RejectDirectSend \$true$/);
  assert.ok(firstConnector >= 0 && rule > firstConnector && firstRestrict > rule && reject > firstRestrict, `${form}: connectors < audit rule < restrictions < RejectDirectSend (${firstConnector}, ${rule}, ${firstRestrict}, ${reject})`);
  assert.equal(lines.filter((l) => /^Set-OrganizationConfig -RejectDirectSend \$true/.test(l)).length, 1, `${form}: RejectDirectSend once`);
  for (const l of lines.filter((x) => /^New-InboundConnector /.test(x))) assert.doesNotMatch(l, /RestrictDomainsTo\w+ \$true/, `${form}: a connector is created unrestricted: ${l}`);
  for (const l of lines.filter((x) => /^New-TransportRule /.test(x))) assert.match(l, / -Mode Audit /, `${form}: the monitoring rule is in audit mode`);
  lines.forEach((l, i) => {
    if (/^(Set-InboundConnector .*\$true|Set-OrganizationConfig -RejectDirectSend \$true)$/.test(l)) assert.match(lines[i + 1] ?? '', /^# rollback: /, `${form}: ${l} is followed by its rollback`);
  });
  assert.doesNotMatch(text, /SmtpClientAuthenticationDisabled|Set-CASMailbox/, `${form}: never an SMTP AUTH grant`);
}

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
    const imp = await run(data, ['audit', 'import', ...files, '--name', 'tenant1', '--tenant-domains', 'contoso.com', '--date-format', 'mdy']);
    assert.match(imp.out, /^imported as import:tenant1\n/);
    assert.match(imp.out, /trace\.csv: message-trace, UTF-16 LE BOM; 5 row\(s\): 5 message copies added, 0 already present, 0 malformed\n/);
    assert.match(imp.out, /tenant domains: contoso\.com \(given with --tenant-domains\)\n/);
    assert.match(imp.out, /direct-send copies in this import: 11\n/);

    const md = (await run(data, ['audit', 'plan', '--source', 'import:tenant1', '--since', '7d', '--spf', F.TENANT_SPF])).out;
    const ps = fencedBlocks(md, 'powershell');
    assert.deepEqual(ps[0], STAGE1, 'stage 1: connectors without restrictions');
    assert.deepEqual(ps[2], [RULE], 'stage 2: the rule in audit mode');
    assert.deepEqual(ps[5], STAGE3, 'stage 3: restrictions, then RejectDirectSend, each with its rollback');
    assertStagedOrder(md, 'md');
    assert.doesNotMatch(md, /The whole script/);
    assert.match(md, /Start-HistoricalSearch -ReportTitle "Direct Send monitoring" -ReportType TransportRule -TransportRule "Monitor Direct Send from unapproved sources" -StartDate \(Get-Date\)\.AddDays\(-14\)/);
    assert.match(md, /#### Checkpoint before stage 3\n\n- Quiet period over: 14 days or more since stage 2/);
    assert.match(md, /After stages 1-2, enabling RejectDirectSend would reject [\d.]+ messages\/day from 3 source\(s\) of this window: 2 likely spoof \(nothing to migrate: RejectDirectSend will stop it\), 0 to investigate first, 1 with a manual step/);
    const script = (await run(data, ['audit', 'plan', '--source', 'import:tenant1', '--since', '7d', '--spf', F.TENANT_SPF, '--format', 'ps1'])).out;
    assertStagedOrder(script, 'ps1');
    assert.match(script, /\[Parameter\(Mandatory = \$true\)\]\[ValidateSet\('connectors', 'monitor', 'review', 'enforce', 'after'\)\]\[string\]\$Stage/);
    const enforceAt = script.indexOf("  'enforce' {");
    const guard = script.indexOf('if (-not $QuietPeriodReviewed) { throw', enforceAt);
    assert.ok(enforceAt > 0 && guard > enforceAt && guard < script.indexOf('Set-InboundConnector -Identity "Direct Send 203.0.113.20" -RestrictDomainsToIPAddresses $true'), 'ps1: enforcement refuses to run without -QuietPeriodReviewed');
    // Every command sits inside one stage of the switch: the script never runs everything at once.
    const body = script.slice(script.indexOf('switch ($Stage) {'));
    assert.ok(script.slice(0, script.indexOf('switch ($Stage) {')).split('\n').every((l) => !/^(New|Set|Remove)-/.test(l.trim())), 'ps1: nothing runs outside a stage');
    assert.ok(body.indexOf("'connectors' {") < body.indexOf("'monitor' {") && body.indexOf("'monitor' {") < body.indexOf("'enforce' {"));
    assert.match(md, /^# Direct Send migration plan\n/);
    assert.match(md, /\| contoso\.com \| v=spf1 ip4:203\.0\.113\.0\/26 include:spf\.vendor\.example -all \| given with --spf \|/);
    assert.match(md, /\| 198\.51\.100\.7 \| bounce@contoso\.com \| 1 \| .* \| pass \(include:spf\.vendor\.example\) \| third-party-service \|/);
    assert.match(md, /\| 198\.51\.100\.66 \| ceo@contoso\.com \| 2 \| .* \| likely-spoof \| .* \| none \| # nothing to migrate: RejectDirectSend will stop it \|/);
    // FilteredAsSpam by Exchange, outside IP, not in SPF: Exchange's own verdict decides.
    assert.match(md, /\| 2001:db8::25 \| app@contoso\.com \| .* \| likely-spoof \| not authorised by the organization's SPF, and Exchange itself flagged it \| organization's SPF: fail; Status FilteredAsSpam 1\/1 \| {2}\| none \|/);
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
    assert.equal(kql[3]?.at(-2), '| where SenderIPv4 !in ("203.0.113.20", "203.0.113.10", "203.0.113.30")');

    const out = join(data, 'plan.html');
    const r = await run(data, ['audit', 'plan', '--format', 'html', '-o', out, '--since', '7d', '--spf', F.TENANT_SPF, '--tenant-domains', 'contoso.com']);
    assert.match(r.err, /plan\.html: 6 source\(s\), 3 connector\(s\)/);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!doctype html>/);
    const esc = (l: string): string => l.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
    assert.ok(html.includes('<pre><code class="language-powershell">' + STAGE3.map(esc).join('\n') + '</code></pre>'));
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

test('plan pieces: certificate and IPv6 sources, untrusted names quoted, broad rule, no sources', () => {
  const base = { sender: 'a@contoso.com', senderDomain: 'contoso.com', certCn: '', classification: 'device-or-app', action: 'connector-ip', powershell: '' } as const;
  const src = (clientIp: string, more: object = {}) => ({ ...base, clientIp, ...more }) as unknown as Parameters<typeof plannedConnectors>[0][number];
  const sources = [
    src('192.0.2.1'),
    src('192.0.2.1', { sender: 'b@fabrikam.com', senderDomain: 'fabrikam.com' }),
    src('2001:db8::1', { action: 'relay-via-mailgate', powershell: '# Exchange Online connectors take IPv4 only: relay 2001:db8::1 through mailgate' }),
    src('::ffff:10.0.0.9', { certCn: 'scanner.contoso.com', action: 'connector-certificate' }),
    src('192.0.2.7', { senderDomain: "evil.test'; Remove-Mailbox x; '", sender: 'x@evil.test', action: 'connector-ip' }),
    src('192.0.2.9', { classification: 'likely-spoof', action: 'none' }),
  ];
  const c = plannedConnectors(sources);
  assert.deepEqual(c.map((x) => x.command), [
    'New-InboundConnector -Name "Direct Send 192.0.2.1" -ConnectorType Partner -SenderDomains contoso.com,fabrikam.com -SenderIPAddresses 192.0.2.1 -RestrictDomainsToIPAddresses $false',
    'New-InboundConnector -Name "Direct Send scanner.contoso.com" -ConnectorType Partner -SenderDomains contoso.com -TlsSenderCertificateName scanner.contoso.com -RequireTls $true -RestrictDomainsToCertificate $false',
    `New-InboundConnector -Name "Direct Send 192.0.2.7" -ConnectorType Partner -SenderDomains 'evil.test''; Remove-Mailbox x; ''' -SenderIPAddresses 192.0.2.7 -RestrictDomainsToIPAddresses $false`,
  ]);
  assert.deepEqual(c.map((x) => [x.restrict, x.unrestrict]), [
    ['Set-InboundConnector -Identity "Direct Send 192.0.2.1" -RestrictDomainsToIPAddresses $true', 'Set-InboundConnector -Identity "Direct Send 192.0.2.1" -RestrictDomainsToIPAddresses $false'],
    ['Set-InboundConnector -Identity "Direct Send scanner.contoso.com" -RestrictDomainsToCertificate $true', 'Set-InboundConnector -Identity "Direct Send scanner.contoso.com" -RestrictDomainsToCertificate $false'],
    ['Set-InboundConnector -Identity "Direct Send 192.0.2.7" -RestrictDomainsToIPAddresses $true', 'Set-InboundConnector -Identity "Direct Send 192.0.2.7" -RestrictDomainsToIPAddresses $false'],
  ]);
  assert.deepEqual(stepForSource(sources[2]!), { kind: 'manual', text: 'a@contoso.com from 2001:db8::1: Exchange Online connectors take IPv4 only: relay 2001:db8::1 through mailgate' });
  assert.deepEqual(stepForSource(sources[5]!), { kind: 'none' });
  assert.equal(
    transportRule('broad', ['contoso.com'], ['192.0.2.1', '2001:db8::1']),
    "New-TransportRule -Name \"Monitor mail not coming from known IPs\" -Mode Audit -Quarantine $true -ExceptIfHeaderContainsMessageHeader 'X-MS-Exchange-Organization-AuthAs' -ExceptIfHeaderContainsWords 'Internal' -ExceptIfSenderIpRanges 192.0.2.1 -Priority 0",
  );
  const none = planStages({ sources: [], connectors: [], variant: 'narrow', tenantDomains: ['contoso.com'], quietDays: 21, rejects: 'r' });
  assert.deepEqual(none.map((st) => st.id), ['connectors', 'monitor', 'enforce', 'after']);
  assert.deepEqual(none[0]?.commands, ['# no legitimate Direct Send source found: no connector needed']);
  assert.deepEqual(none[2]?.commands, ['Set-OrganizationConfig -RejectDirectSend $true', '# rollback: Set-OrganizationConfig -RejectDirectSend $false']);
  assert.match(none[2]?.title ?? '', /After the quiet period \(21 days\)/);
  assert.equal(planKql(['contoso.com', 'fabrikam.com'], [], 30).length, 3);
  // A domain taken from a sender address cannot leave its KQL string.
  assert.ok(planKql(['x") | take 1 //.test'], [], 7)[0]?.query.includes('| where SenderMailFromDomain in ("x\\") | take 1 //.test")'));
});

test('audit plan: a window without data refuses to recommend RejectDirectSend and says where the data is', async () => {
  const data = newDataDir();
  try {
    // Nothing imported at all.
    for (const format of ['md', 'ps1']) {
      const empty = (await run(data, ['audit', 'plan', '--since', '7d', '--tenant-domains', 'contoso.com', '--spf', F.TENANT_SPF, '--format', format])).out;
      assert.doesNotMatch(empty, /Set-OrganizationConfig -RejectDirectSend \$true/, `${format}: never recommends enabling on no data`);
      assert.match(empty, /RejectDirectSend is not recommended: no data in the window .*the trace holds no data at all/);
    }
    await run(data, ['audit', 'import', F.write(data, 'trace.csv', F.messageTraceText(now), 'utf16le-bom'), '--name', 'old', '--tenant-domains', 'contoso.com', '--date-format', 'mdy']);
    // The import's rows are 5 to 30 hours old: a 2-hour window holds none of them.
    for (const format of ['md', 'ps1', 'html']) {
      const text = (await run(data, ['audit', 'plan', '--since', '2h', '--source', 'import:old', '--tenant-domains', 'contoso.com', '--spf', F.TENANT_SPF, '--format', format])).out;
      assert.doesNotMatch(text, /Set-OrganizationConfig -RejectDirectSend \$true/, `${format}: no RejectDirectSend on an empty window`);
      assert.match(text, /not recommended: no data in the window [^ ]+ to [^ ]+ for import:old: import old holds \S+ \(5 rows\); use --since [^;]+; so nothing shows which senders depend on Direct Send/, format);
      assert.doesNotMatch(text, /from 0 sources/, `${format}: never a silent "0 sources"`);
    }
    const withData = (await run(data, ['audit', 'plan', '--since', '7d', '--source', 'import:old', '--tenant-domains', 'contoso.com', '--spf', F.TENANT_SPF])).out;
    assert.match(withData, /^Set-OrganizationConfig -RejectDirectSend \$true$/m, 'with data in the window it is planned');
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
