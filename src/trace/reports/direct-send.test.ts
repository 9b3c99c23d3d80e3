/** Direct Send readiness report over rows written to every trace store adapter (SQLite; PostgreSQL when present). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportWindow } from './common.ts';
import { directSendReportFrom } from './direct-send.ts';
import type { SpfAuthorizer } from './direct-send-classify.ts';
import { traceRow, type RowSpec } from './test-rows.ts';
import type { TraceStore } from '../trace-store.ts';
import { traceAdapters } from '../../../test/helpers/trace-adapters.ts';

const adapters = await traceAdapters();
const add = (store: TraceStore, o: RowSpec): Promise<void> => store.write({ messages: [traceRow(o)], events: [] });

const fail = { spf: 'fail', dkim: 'none', dmarc: 'fail' };

const spfCheck: SpfAuthorizer = async (ip, domain) => {
  assert.equal(domain, ip === '198.51.100.7' || ip === '198.51.100.8' ? 'example.com' : domain);
  if (ip === '198.51.100.7') return { result: 'pass', mechanism: 'include:sendgrid.net' };
  if (ip === '198.51.100.8') return { result: 'pass', mechanism: 'ip4:198.51.100.0/24' };
  return { result: 'fail', mechanism: '-all' };
};

for (const a of adapters) test(`${a.name}: direct-send: grouping, counts, classification and exact recommendations`, { skip: a.skip }, async (ctx) => {
  const db = await a.open(ctx);
  {
    const base = Date.now() - 7_200_000;
    await add(db, { clientIp: '10.1.2.3', helo: 'printer-1', subject: 'scan 1', receivedAt: base, recipients: ['a@example.com', 'b@example.com'] });
    await add(db, { clientIp: '10.1.2.3', helo: 'printer-1', subject: 'scan 2', receivedAt: base + 1000, tlsVersion: 'TLSv1.3', mailFrom: 'Printer@Example.com', recipients: ['a@example.com'] });
    await add(db, { clientIp: '198.51.100.7', mailFrom: 'news@example.com', subject: 'newsletter', auth: { spf: 'pass', dkim: 'pass', dmarc: 'pass' } });
    await add(db, { clientIp: '198.51.100.8', mailFrom: 'app@example.com', subject: 'invoice' });
    await add(db, { clientIp: '203.0.113.9', mailFrom: 'ceo@example.com', subject: 'urgent wire', auth: fail });
    await add(db, { clientIp: '203.0.113.9', mailFrom: 'ceo@example.com', subject: 'urgent wire', auth: { spf: 'softfail', dkim: 'fail', dmarc: 'fail' }, status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources [X@h]' });
    await add(db, { clientIp: '192.0.2.44', mailFrom: 'crm@example.com', subject: 'lead' });
    await add(db, { clientIp: '192.0.2.55', mailFrom: 'hr@example.com', subject: 'payslip', auth: { spf: 'pass' } });
    await add(db, { clientIp: '::ffff:10.0.0.9', mailFrom: 'scanner@example.com', certCn: 'scanner.example.com', certVerified: true, tlsVersion: 'TLSv1.2' });
    // Not Direct Send: external sender, connector.
    await add(db, { clientIp: '192.0.2.99', mailFrom: 'bob@contoso.test', attribution: 'anonymous-external' });
    await add(db, { clientIp: '127.0.0.10', attribution: 'connector', connector: 'Printers', connectorType: 'Partner' });

    const w = reportWindow('1d', Date.now(), 90);
    const r = await directSendReportFrom(db, w, { spfCheck });
    const by = new Map(r.sources.map((s) => [`${s.clientIp} ${s.sender}`, s]));
    assert.equal(r.sources.length, 7);

    const printer = by.get('10.1.2.3 printer@example.com');
    assert.ok(printer);
    assert.equal(printer.messages, 2);
    assert.equal(printer.recipients, 2);
    assert.deepEqual(printer.heloNames, ['printer-1']);
    assert.deepEqual(printer.sampleSubjects, ['scan 1', 'scan 2']);
    assert.equal(printer.tls, 'mixed');
    assert.equal(printer.spf, 'unknown:2');
    assert.equal(printer.dkimPassRate, 'unknown');
    assert.equal(printer.classification, 'device-or-app');
    assert.equal(printer.reason, 'internal range 10.0.0.0/8 decided');
    assert.deepEqual(printer.signals, ['internal range 10.0.0.0/8']);
    assert.deepEqual(printer.warnings, []);
    assert.equal(printer.firstSeen, new Date(base).toISOString());
    assert.equal(printer.lastSeen, new Date(base + 1000).toISOString());
    // Created without a restriction: restricting locks the domain for every other source (5.7.51).
    assert.equal(printer.recommendation, "mailgate connector add 'Direct Send 10.1.2.3' --type Partner --sender-ip 10.1.2.3/32 --sender-domain example.com");
    assert.equal(printer.powershell, 'New-InboundConnector -Name "Direct Send 10.1.2.3" -ConnectorType Partner -SenderDomains example.com -SenderIPAddresses 10.1.2.3 -RestrictDomainsToIPAddresses $false');

    const saas = by.get('198.51.100.7 news@example.com');
    assert.equal(saas?.classification, 'third-party-service');
    assert.equal(saas?.spfAuthorised, 'pass (include:sendgrid.net)');
    assert.equal(saas?.dkimPassRate, '100% (1/1)');
    assert.equal(saas?.dmarc, 'pass:1');
    // A shared sending service: never a /32 connector (its IPs send for every SendGrid customer).
    assert.equal(saas?.action, 'dmarc-aligned');
    assert.equal(saas?.sharedService, 'SendGrid');
    assert.doesNotMatch(`${saas?.recommendation} ${saas?.powershell}`, /\/32|New-InboundConnector|connector add|-SenderIPAddresses 198/);
    assert.match(saas?.powershell ?? '', /DKIM-sign as example\.com, so DMARC passes by alignment/);

    assert.equal(by.get('198.51.100.8 app@example.com')?.classification, 'device-or-app');
    assert.equal(by.get('198.51.100.8 app@example.com')?.reason, "authorised by the organization's SPF ip4:198.51.100.0/24");

    const spoof = by.get('203.0.113.9 ceo@example.com');
    assert.ok(spoof);
    assert.equal(spoof.messages, 2);
    assert.equal(spoof.rejected, 1);
    assert.equal(spoof.spf, 'fail:1 softfail:1');
    assert.equal(spoof.dkimPassRate, '0% (0/2)');
    assert.equal(spoof.dmarc, 'fail:2');
    assert.equal(spoof.classification, 'likely-spoof');
    assert.equal(spoof.action, 'none');
    assert.equal(spoof.recommendation, '# nothing to migrate: RejectDirectSend will stop it');
    assert.deepEqual(spoof.signals, ['recorded SPF fail + DMARC fail 2/2', "organization's SPF: fail (-all)"]);

    const unknown = by.get('192.0.2.44 crm@example.com');
    assert.equal(unknown?.classification, 'unknown');
    assert.equal(unknown?.action, 'investigate');
    assert.equal(unknown?.recommendation, 'mailgate trace search --since 30d --client-ip 192.0.2.44 --sender crm@example.com');
    assert.equal(unknown?.powershell, 'Get-MessageTraceV2 -SenderAddress "crm@example.com" -FromIP 192.0.2.44 -StartDate (Get-Date).AddDays(-10) -EndDate (Get-Date) | Get-MessageTraceDetailV2');

    // Recorded SPF pass, but the organization's record (evaluated now) fails the IP: investigate, not a connector.
    const hr = by.get('192.0.2.55 hr@example.com');
    assert.equal(hr?.classification, 'unknown');
    assert.deepEqual(hr?.signals, ["organization's SPF: fail (-all)", 'recorded SPF pass 1/1']);
    for (const s of r.sources) {
      assert.doesNotMatch(`${s.recommendation} ${s.powershell}`, /SmtpClientAuthenticationDisabled|Set-CASMailbox|user add/, `${s.clientIp}: never an SMTP AUTH grant`);
    }

    const scanner = by.get('::ffff:10.0.0.9 scanner@example.com');
    assert.equal(scanner?.classification, 'device-or-app');
    assert.equal(scanner?.tls, 'yes');
    assert.equal(scanner?.recommendation, "mailgate connector add 'Direct Send scanner.example.com' --type Partner --tls-cert-name scanner.example.com --sender-domain example.com --require-tls");
    assert.equal(scanner?.powershell, 'New-InboundConnector -Name "Direct Send scanner.example.com" -ConnectorType Partner -SenderDomains example.com -TlsSenderCertificateName scanner.example.com -RequireTls $true -RestrictDomainsToCertificate $false');

    assert.equal(r.summary[0], 'enabling RejectDirectSend now would reject 9 messages/day from 7 sources (1 of them likely spoof)');
  }
});

for (const a of adapters) test(`${a.name}: direct-send: --internal replaces the default ranges; unverified certificates give the IP form`, { skip: a.skip }, async (ctx) => {
  const db = await a.open(ctx);
  {
    await add(db, { clientIp: '10.1.2.3', certCn: 'dev.example.com', certVerified: false });
    const w = reportWindow('1d', Date.now(), 90);
    const dflt = await directSendReportFrom(db, w);
    assert.equal(dflt.sources[0]?.classification, 'device-or-app');
    assert.equal(dflt.sources[0]?.action, 'connector-ip');
    assert.equal(dflt.sources[0]?.spfAuthorised, 'unknown');
    const custom = await directSendReportFrom(db, w, { internal: ['192.168.0.0/16'] });
    assert.equal(custom.sources[0]?.classification, 'unknown');
  }
});

for (const a of adapters) test(`${a.name}: direct-send: per-day rate over the observed days`, { skip: a.skip }, async (ctx) => {
  const db = await a.open(ctx);
  {
    const now = Date.now();
    for (let i = 0; i < 20; i++) await add(db, { receivedAt: now - 10 * 86_400_000 + i * 1000 });
    const r = await directSendReportFrom(db, reportWindow('30d', now, 90));
    assert.equal(r.summary[0], 'enabling RejectDirectSend now would reject 2 messages/day from 1 sources (0 of them likely spoof)');
  }
});
