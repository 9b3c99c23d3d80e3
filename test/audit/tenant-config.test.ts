/**
 * @module test/audit/tenant-config.test
 * The tenant's own configuration: every cmdlet's ConvertTo-Json output read from real files as
 * PowerShell 7 and Windows PowerShell 5.1 write them (single object and array, UTF-16 LE with BOM,
 * `smtp:*;1`, enum numbers, {value,Count} arrays, nulls); a file of no known cmdlet refused; each
 * transport-rule lint finding and a clean rule without one; connector coverage; the mirror
 * accepted by the configuration schema.
 * Touches: temporary directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coveredBy, lintRules, mirrorTenant, readTenantFile, TenantConfigRefused, type TenantConfig } from '../../src/audit/index.ts';
import { tenantPlanView } from '../../src/audit/plan-tenant.ts';
import { validateConfig } from '../../src/config/index.ts';
import type { DirectSendSource } from '../../src/trace/reports/index.ts';
import * as T from './tenant-fixtures.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-tenant-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const shell of ['ps7', 'ps51'] as const) {
  test(`${shell}: each cmdlet's JSON, single object and array, read into the tenant model`, () =>
    withDir((dir) => {
      const t: TenantConfig = { name: 'contoso' };
      const enc = shell === 'ps51' ? /UTF-16 LE BOM/ : /UTF-8/;
      const ad = readTenantFile(T.writeJson(dir, 'domains.json', [T.acceptedDomain(shell, 'Contoso.com', 'Authoritative', { Default: true }), T.acceptedDomain(shell, 'sub.contoso.com', 'InternalRelay', { MatchSubDomains: true }), T.acceptedDomain(shell, 'legacy.contoso.com', 'ExternalRelay')], shell), t);
      assert.equal(ad.cmdlet, 'Get-AcceptedDomain');
      assert.match(ad.encoding, enc);
      assert.deepEqual(t.acceptedDomains, [
        { domainName: 'contoso.com', domainType: 'Authoritative', matchSubDomains: false, default: true },
        { domainName: 'sub.contoso.com', domainType: 'InternalRelay', matchSubDomains: true, default: false },
        { domainName: 'legacy.contoso.com', domainType: 'ExternalRelay', matchSubDomains: false, default: false },
      ]);
      // One connector: ConvertTo-Json writes the object bare, not in an array.
      const one = readTenantFile(T.writeJson(dir, 'inbound.json', [T.inboundConnector(shell, { name: 'Fabrikam relay', type: 'Partner', ips: ['198.51.100.7', '203.0.113.0/24'], domains: ['fabrikam.com'], restrictIp: true, requireTls: null })], shell), t);
      assert.equal(one.cmdlet, 'Get-InboundConnector');
      assert.equal(one.objects, 1);
      assert.ok(one.notes.some((n) => /smtp:\*;1/.test(n)), one.notes.join('; '));
      assert.deepEqual(t.inboundConnectors, [
        { name: 'Fabrikam relay', connectorType: 'Partner', enabled: true, senderIPAddresses: ['198.51.100.7', '203.0.113.0/24'], senderDomains: ['fabrikam.com'], tlsSenderCertificateName: null, requireTls: null, restrictDomainsToIPAddresses: true, restrictDomainsToCertificate: false, comment: '', unsupported: [] },
      ]);
      readTenantFile(
        T.writeJson(dir, 'inbound2.json', [T.inboundConnector(shell, { name: 'Hybrid', type: 'OnPremises', cert: '*.contoso.com', requireTls: true, extra: { CloudServicesMailEnabled: true } }), T.inboundConnector(shell, { name: 'Old', type: 'Partner', ips: ['192.0.2.1'], enabled: false })], shell),
        t,
      );
      assert.deepEqual(
        t.inboundConnectors?.map((c) => [c.name, c.connectorType, c.senderDomains, c.tlsSenderCertificateName, c.requireTls, c.enabled, c.unsupported]),
        [
          ['Hybrid', 'OnPremises', ['*'], '*.contoso.com', true, true, ['CloudServicesMailEnabled=true']],
          ['Old', 'Partner', ['*'], null, false, false, []],
        ],
        'a second file of the same cmdlet replaces the first',
      );
      const ob = readTenantFile(T.writeJson(dir, 'outbound.json', [T.outboundConnector(shell, 'To on-prem', 'mail.contoso.com')], shell), t);
      assert.equal(ob.cmdlet, 'Get-OutboundConnector');
      assert.deepEqual(t.outboundConnectors?.map((o) => [o.name, o.smartHosts]), [['To on-prem', ['mail.contoso.com']]]);
      const org = readTenantFile(T.writeJson(dir, 'org.json', [T.organizationConfig(shell, null)], shell), t);
      assert.equal(org.cmdlet, 'Get-OrganizationConfig');
      assert.deepEqual(t.organization, { name: 'contoso.onmicrosoft.com', rejectDirectSend: null }, 'null tri-state stays "not set"');
      assert.ok(org.notes.some((n) => /not set/.test(n)));
      readTenantFile(T.writeJson(dir, 'org2.json', [T.organizationConfig(shell, true)], shell), t);
      assert.equal(t.organization?.rejectDirectSend, true);
      const rules = readTenantFile(
        T.writeJson(dir, 'rules.json', [
          T.transportRule(shell, { name: 'DS monitor', mode: 'AuditAndNotify', fromScope: 'NotInOrganization', senderDomainIs: ['contoso.com'], prependSubject: '[DS] ', bcc: ['sec@contoso.com'], priority: 1 }),
          T.transportRule(shell, { name: 'Quarantine DS', state: 'Disabled', fromScope: 'NotInOrganization', senderDomainIs: ['contoso.com'], location: 'Envelope', quarantine: true, exceptIps: ['203.0.113.0/26'], objects: true, priority: 0 }),
        ], shell),
        t,
      );
      assert.equal(rules.cmdlet, 'Get-TransportRule');
      const [a, b] = t.transportRules ?? [];
      assert.deepEqual([a?.mode, a?.enabled, a?.fromScope, a?.senderDomainIs, a?.senderAddressLocation, a?.priority], ['AuditAndNotify', true, 'NotInOrganization', ['contoso.com'], 'Header', 1]);
      assert.deepEqual(a?.conditions, ['FromScopePredicate', 'SenderDomainIsPredicate'], '.NET class names shortened');
      assert.deepEqual(a?.actions.sort(), ['BlindCopyToAction', 'PrependSubjectAction']);
      assert.deepEqual([b?.mode, b?.enabled, b?.senderAddressLocation, b?.quarantine, b?.exceptIfSenderIpRanges], ['Enforce', false, 'Envelope', true, ['203.0.113.0/26']]);
      assert.deepEqual(b?.conditions, ['FromScopePredicate', 'SenderDomainIsPredicate'], 'class names found inside serialized objects');
      assert.deepEqual(b?.exceptions, ['SenderIpRangesPredicate']);
      assert.ok(b?.actions.includes('QuarantineAction'));
    }));
}

test('a file of no known cmdlet, mixed cmdlets, or not JSON, is refused naming the closest cmdlet and what it lacks', () =>
  withDir((dir) => {
    const t: TenantConfig = { name: 'x' };
    const refused = (file: string, re: RegExp): void => assert.throws(() => readTenantFile(file, t), (e: unknown) => e instanceof TenantConfigRefused && re.test(e.message));
    refused(T.writeJson(dir, 'a.json', [{ DomainName: 'contoso.com', Name: 'contoso.com' }], 'ps7'), /closest is Get-AcceptedDomain, which also has DomainType/);
    refused(T.writeJson(dir, 'b.json', [T.acceptedDomain('ps7', 'contoso.com', 'Authoritative'), T.organizationConfig('ps7', true)], 'ps7'), /item 2 is Get-OrganizationConfig output but item 1 is Get-AcceptedDomain/);
    refused(T.writeJson(dir, 'c.json', [], 'ps7'), /empty JSON array/);
    // Format-List output saved instead of JSON (a common mistake).
    const bad = join(dir, 'd.json');
    writeFileSync(bad, 'Name : Fabrikam\r\nEnabled : True\r\n');
    refused(bad, /not JSON .*ConvertTo-Json -Depth 5/);
  }));

const rule = (over: Partial<Parameters<typeof T.transportRule>[1]> & { name: string }): Parameters<typeof T.transportRule>[1] => over;

test('rule lint: each finding, and a clean rule with none', () =>
  withDir((dir) => {
    const t: TenantConfig = { name: 'x' };
    readTenantFile(
      T.writeJson(dir, 'rules.json', [
        T.transportRule('ps51', rule({ name: "Tag DS (audit)", mode: 'AuditAndNotify', fromScope: 'NotInOrganization', senderDomainIs: ['contoso.com'], location: 'Envelope', prependSubject: '[Direct Send] ', bcc: ['soc@contoso.com'] })),
        T.transportRule('ps51', rule({ name: 'Emulate RejectDirectSend', fromScope: 'NotInOrganization', senderDomainIs: ['contoso.com'], quarantine: true })),
        T.transportRule('ps51', rule({ name: "Bypass for partner's domain", senderDomainIs: ['contoso.com'], location: 'Envelope', setScl: -1 })),
        T.transportRule('ps51', rule({ name: 'Quarantine unapproved', state: 'Disabled', fromScope: 'NotInOrganization', senderDomainIs: ['contoso.com'], location: 'HeaderOrEnvelope', quarantine: true, exceptIps: ['203.0.113.0/26'] })),
        T.transportRule('ps51', rule({ name: 'Clean', fromScope: 'NotInOrganization', senderDomainIs: ['contoso.com'], location: 'HeaderOrEnvelope', quarantine: true, exceptIps: ['203.0.113.0/26'] })),
        T.transportRule('ps51', rule({ name: 'Audit, report only', mode: 'Audit', fromScope: 'NotInOrganization' })),
      ], 'ps51'),
      t,
    );
    const f = lintRules(t.transportRules ?? [], ['contoso.com']);
    assert.deepEqual(
      f.map((x) => [x.code, x.severity, x.rule]),
      [
        ['audit-mode-action', 'warning', 'Tag DS (audit)'],
        ['sender-header-not-envelope', 'error', 'Emulate RejectDirectSend'],
        ['scl-bypass', 'error', "Bypass for partner's domain"],
        ['disabled-relied-on', 'warning', 'Quarantine unapproved'],
      ],
    );
    assert.match(f[0]?.message ?? '', /Mode AuditAndNotify: PrependSubject, BCC \(BlindCopyTo\) never run/);
    assert.equal(f[0]?.fix, "Set-TransportRule -Identity 'Tag DS (audit)' -Mode Enforce   # only once the hits in the message trace show it matches what you expect");
    assert.equal(f[1]?.fix, "Set-TransportRule -Identity 'Emulate RejectDirectSend' -SenderAddressLocation HeaderOrEnvelope");
    assert.match(f[2]?.message ?? '', /skip anyone who sends as contoso\.com \(a spoofer included\)/);
    assert.match(f[2]?.fix ?? '', /^Disable-TransportRule -Identity 'Bypass for partner''s domain'/, 'quotes in rule names are escaped');
    assert.equal(f[3]?.fix, "Enable-TransportRule -Identity 'Quarantine unapproved'");
    assert.deepEqual(lintRules((t.transportRules ?? []).filter((r) => r.name === 'Clean' || r.name === 'Audit, report only'), ['contoso.com']), [], 'clean rules have no finding');
    assert.deepEqual(lintRules((t.transportRules ?? []).filter((r) => r.name === 'Emulate RejectDirectSend'), ['fabrikam.com']), [], 'SenderDomainIs of a domain not the tenant\'s is not the Direct Send mistake');
  }));

test('coveredBy: IP/CIDR and certificate name, sender domains, restrictions, disabled connectors', () => {
  const c = (over: Partial<NonNullable<TenantConfig['inboundConnectors']>[number]>): NonNullable<TenantConfig['inboundConnectors']>[number] => ({
    name: 'C', connectorType: 'Partner', enabled: true, senderIPAddresses: [], senderDomains: ['*'], tlsSenderCertificateName: null, requireTls: false, restrictDomainsToIPAddresses: false, restrictDomainsToCertificate: false, comment: '', unsupported: [], ...over,
  });
  const tenant: TenantConfig = {
    name: 't',
    inboundConnectors: [
      c({ name: 'Printers', senderIPAddresses: ['203.0.113.0/28'], senderDomains: ['contoso.com'], restrictDomainsToIPAddresses: true }),
      c({ name: 'Off', senderIPAddresses: ['192.0.2.0/24'], enabled: false }),
      c({ name: 'Vendor cert', tlsSenderCertificateName: '*.vendor.example', senderDomains: ['*.contoso.com'] }),
      c({ name: 'Hybrid', connectorType: 'OnPremises', senderIPAddresses: ['198.51.100.0/24'], senderDomains: ['*'], tlsSenderCertificateName: 'mail.contoso.com', restrictDomainsToCertificate: false }),
    ],
  };
  assert.deepEqual(coveredBy(tenant, { clientIp: '203.0.113.10', senderDomain: 'contoso.com' }), { connector: 'Printers', connectorType: 'Partner', by: 'ip', entry: '203.0.113.0/28' });
  assert.equal(coveredBy(tenant, { clientIp: '203.0.113.20', senderDomain: 'contoso.com' }), undefined, 'outside the CIDR');
  assert.equal(coveredBy(tenant, { clientIp: '203.0.113.10', senderDomain: 'fabrikam.com' }), undefined, 'a Partner connector needs the sender domain');
  assert.equal(coveredBy(tenant, { clientIp: '192.0.2.5', senderDomain: 'contoso.com' }), undefined, 'a disabled connector covers nothing');
  assert.deepEqual(coveredBy(tenant, { clientIp: '::ffff:198.51.100.9', senderDomain: 'contoso.com' })?.connector, 'Hybrid');
  assert.deepEqual(coveredBy(tenant, { clientIp: '2001:db8::1', senderDomain: 'mail.contoso.com', certCn: 'smtp.vendor.example' }), { connector: 'Vendor cert', connectorType: 'Partner', by: 'certificate', entry: '*.vendor.example' });
  assert.equal(coveredBy(tenant, { clientIp: '2001:db8::1', senderDomain: 'contoso.com', certCn: 'vendor.example.evil' }), undefined);
});

test('mirror: accepted domains, connectors, RejectDirectSend; what cannot be mirrored is listed; the schema accepts it', () =>
  withDir((dir) => {
    const t: TenantConfig = { name: 'contoso' };
    readTenantFile(T.writeJson(dir, 'd.json', [T.acceptedDomain('ps51', 'contoso.com', 'Authoritative'), T.acceptedDomain('ps51', 'sub.contoso.com', 'InternalRelay', { MatchSubDomains: true }), T.acceptedDomain('ps51', 'legacy.contoso.com', 'ExternalRelay')], 'ps51'), t);
    readTenantFile(
      T.writeJson(dir, 'c.json', [
        T.inboundConnector('ps51', { name: 'Fabrikam relay', type: 'Partner', ips: ['198.51.100.7'], domains: ['fabrikam.com'], restrictIp: true }),
        T.inboundConnector('ps51', { name: 'Hybrid', type: 'OnPremises', cert: '*.contoso.com', requireTls: true, restrictCert: true, extra: { EFSkipIPs: { value: ['192.0.2.1'], Count: 1 } } }),
        T.inboundConnector('ps51', { name: 'Ranges', type: 'Partner', ips: ['192.0.2.1-192.0.2.9', '192.0.2.64/26'], enabled: false }),
      ], 'ps51'),
      t,
    );
    readTenantFile(T.writeJson(dir, 'o.json', [T.organizationConfig('ps51', true)], 'ps51'), t);
    readTenantFile(T.writeJson(dir, 'r.json', [T.transportRule('ps51', { name: 'DS monitor', mode: 'Audit', prependSubject: '[DS] ' })], 'ps51'), t);
    readTenantFile(T.writeJson(dir, 'ob.json', [T.outboundConnector('ps51', 'To on-prem', 'mail.contoso.com')], 'ps51'), t);
    const m = mirrorTenant(t);
    const cfg = validateConfig(m.config);
    assert.equal(cfg.organization.rejectDirectSend, true);
    assert.deepEqual(cfg.acceptedDomains, [
      { domainName: 'contoso.com', domainType: 'Authoritative', matchSubDomains: false },
      { domainName: 'sub.contoso.com', domainType: 'InternalRelay', matchSubDomains: true },
    ]);
    assert.deepEqual(cfg.inboundConnectors.map((c) => [c.name, c.connectorType, c.senderIPAddresses, c.senderDomains, c.tlsSenderCertificateName, c.requireTls, c.restrictDomainsToIPAddresses, c.restrictDomainsToCertificate, c.enabled]), [
      ['Fabrikam relay', 'Partner', ['198.51.100.7'], ['fabrikam.com'], undefined, false, true, false, true],
      ['Hybrid', 'OnPremises', [], ['*'], '*.contoso.com', true, false, false, true],
      ['Ranges', 'Partner', ['192.0.2.64/26'], ['*'], undefined, false, false, false, false],
    ]);
    const notes = m.notMirrored.join('\n');
    assert.match(notes, /legacy\.contoso\.com: ExternalRelay/);
    assert.match(notes, /"Hybrid": RestrictDomainsTo\* set on an OnPremises connector/);
    assert.match(notes, /"Hybrid": EFSkipIPs=.* has no mailgate equivalent/);
    assert.match(notes, /"Ranges": SenderIPAddresses entry "192\.0\.2\.1-192\.0\.2\.9"/);
    assert.match(notes, /outbound connector "To on-prem" \(smart hosts mail\.contoso\.com\)/);
    assert.match(notes, /transport rule "DS monitor" \(Audit, enabled\): not mirrored/);
  }));

test('every cmdlet: one object (written bare) and several (an array, or 5.1\'s {"value":[…],"Count":n}) give the same model', () =>
  withDir((dir) => {
    const makers: [string, (shell: T.Shell, i: number) => Record<string, unknown>, keyof TenantConfig][] = [
      ['Get-AcceptedDomain', (s, i) => T.acceptedDomain(s, `d${i}.contoso.com`, 'Authoritative'), 'acceptedDomains'],
      ['Get-InboundConnector', (s, i) => T.inboundConnector(s, { name: `C${i}`, type: 'Partner', ips: [`192.0.2.${i}`] }), 'inboundConnectors'],
      ['Get-OutboundConnector', (s, i) => T.outboundConnector(s, `O${i}`, `mx${i}.contoso.com`), 'outboundConnectors'],
      ['Get-TransportRule', (s, i) => T.transportRule(s, { name: `R${i}`, priority: i }), 'transportRules'],
    ];
    for (const shell of ['ps7', 'ps51'] as const) {
      for (const [cmdlet, make, key] of makers) {
        const one: TenantConfig = { name: 'x' };
        const s1 = readTenantFile(T.writeJson(dir, `${shell}-${key}-1.json`, [make(shell, 1)], shell), one);
        const many: TenantConfig = { name: 'x' };
        const s2 = readTenantFile(T.writeJson(dir, `${shell}-${key}-2.json`, [make(shell, 1), make(shell, 2)], shell), many);
        // Windows PowerShell 5.1 piping an array through a function: the whole file is {"value":[…],"Count":n}.
        const wrapped: TenantConfig = { name: 'x' };
        const f3 = join(dir, `${shell}-${key}-3.json`);
        writeFileSync(f3, JSON.stringify({ value: [make(shell, 1), make(shell, 2)], Count: 2 }));
        readTenantFile(f3, wrapped);
        assert.deepEqual([s1.cmdlet, s1.objects, s2.cmdlet, s2.objects], [cmdlet, 1, cmdlet, 2], `${shell} ${cmdlet}`);
        assert.deepEqual((many[key] as unknown[])[0], (one[key] as unknown[])[0], `${shell} ${cmdlet}: the first object reads the same alone or in an array`);
        assert.deepEqual(wrapped[key], many[key], `${shell} ${cmdlet}: {"value":[…],"Count":n}`);
      }
      const org: TenantConfig = { name: 'x' };
      const s = readTenantFile(T.writeJson(dir, `${shell}-org-2.json`, [T.organizationConfig(shell, false), T.organizationConfig(shell, true)], shell), org);
      assert.equal(org.organization?.rejectDirectSend, false, 'an array of organizations: the first is used');
      assert.ok(s.notes.some((n) => /2 organization objects: the first is used/.test(n)));
    }
  }));

test('plan notes from the tenant: covered sources and RejectDirectSend, the tenant\'s names kept on one line', () => {
  const source = { clientIp: '203.0.113.10', sender: 'scanner@contoso.com', senderDomain: 'contoso.com', certCn: '', classification: 'device-or-app' } as DirectSendSource; // only the fields tenantPlanView reads
  const tenant: TenantConfig = {
    name: 't',
    organization: { name: null, rejectDirectSend: null },
    inboundConnectors: [{ name: 'Scanners\n# 1. Set-OrganizationConfig -RejectDirectSend $true', connectorType: 'Partner', enabled: true, senderIPAddresses: ['203.0.113.0/28'], senderDomains: ['contoso.com'], tlsSenderCertificateName: null, requireTls: false, restrictDomainsToIPAddresses: false, restrictDomainsToCertificate: false, comment: '', unsupported: [] }],
  };
  const v = tenantPlanView(tenant, [source], ['contoso.com']);
  assert.deepEqual([v.uncovered, v.coveredIps], [[], ['203.0.113.10']]);
  assert.deepEqual(v.notes, [
    'Tenant "t": RejectDirectSend is currently not set ($false) (Get-OrganizationConfig).',
    '203.0.113.10 (scanner@contoso.com) is covered by connector "Scanners # 1. Set-OrganizationConfig -RejectDirectSend $true" (Partner, by IP 203.0.113.0/28): not planned again.',
  ]);
  assert.deepEqual(tenantPlanView(undefined, [source], []).uncovered, [source], 'no tenant: nothing is covered');
});

test('an enum number or name not known is not guessed silently: the summary names it', () =>
  withDir((dir) => {
    const t: TenantConfig = { name: 'x' };
    const s = readTenantFile(T.writeJson(dir, 'r.json', [{ ...T.transportRule('ps51', { name: 'R' }), Mode: 7, State: 9, SenderAddressLocation: 'Body' }], 'ps51'), t);
    assert.deepEqual(s.notes, ['transport rule R: Mode 7 not recognised; read as Enforce', 'transport rule R: State 9 not recognised; read as Enabled', 'transport rule R: SenderAddressLocation "Body" not recognised; read as Header']);
    const c = readTenantFile(T.writeJson(dir, 'c.json', [{ ...T.inboundConnector('ps51', { name: 'C', type: 'Partner' }), ConnectorType: 5 }], 'ps51'), t);
    assert.ok(c.notes.includes('inbound connector C: ConnectorType 5 not recognised; read as Partner'), c.notes.join('; '));
  }));
