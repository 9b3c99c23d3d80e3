/**
 * Direct Send classification rules over rows in a real SQLite trace (gateway-shaped rows, as the
 * live gateway records them): internal ranges never outweigh SPF+DMARC failure, a NAT or loopback
 * range is warned about, shared sending services are never given a /32 connector, and rows with no
 * client IP or an outbound/intra-org direction are never sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportWindow } from './common.ts';
import { directSendReportFrom } from './direct-send.ts';
import { sqliteTraceStore } from '../../stores/sqlite/trace-store.ts';
import type { SpfAuthorizer } from './direct-send-classify.ts';
import { addRow, tempTrace } from './test-rows.ts';

const w = (): ReturnType<typeof reportWindow> => reportWindow('1d', Date.now(), 90);
const failAll: SpfAuthorizer = async () => ({ result: 'fail', mechanism: '-all' });
const DANGEROUS = /SmtpClientAuthenticationDisabled|Set-CASMailbox|user add|connector add|New-InboundConnector|\/32/;

test('classify: an internal range + SPF fail + DMARC fail is not device-or-app, and the NAT/loopback range is warned about', async () => {
  const t = tempTrace();
  try {
    // Behind Docker's port publishing every internet client is 172.17.0.1.
    addRow(t.db, { clientIp: '172.17.0.1', helo: 'mail.evil.test', mailFrom: 'cfo@example.com', auth: { spf: 'fail', dkim: 'none', dmarc: 'fail' } });
    // Internal, SPF fails against -all and a foreign HELO, no DMARC result recorded: not device-or-app either.
    addRow(t.db, { clientIp: '10.9.9.9', helo: 'mail.evil.test', mailFrom: 'ceo@example.com' });
    // Loopback with no evidence against it: device-or-app, but the range is flagged.
    addRow(t.db, { clientIp: '127.0.0.1', helo: 'localhost', mailFrom: 'cron@example.com' });
    // A real device subnet: the range decides, no warning.
    addRow(t.db, { clientIp: '10.20.0.5', helo: 'printer-3', mailFrom: 'scanner@example.com' });
    const r = await directSendReportFrom(sqliteTraceStore(t.db), w(), { spfCheck: failAll });
    const by = new Map(r.sources.map((s) => [s.clientIp, s]));

    const docker = by.get('172.17.0.1');
    assert.equal(docker?.classification, 'likely-spoof');
    assert.deepEqual(docker?.signals, ['recorded SPF fail + DMARC fail 1/1', "organization's SPF: fail (-all)"]);
    assert.match(docker?.warnings[0] ?? '', /^client IP 172\.17\.0\.1 is Docker's default bridge \(NAT\) \(172\.17\.0\.0\/16\): .*proves nothing/);
    assert.equal(docker?.warnings[1], 'internal range 172.16.0.0/12 did not decide: SPF and DMARC failed');
    assert.equal(docker?.recommendation, '# nothing to migrate: RejectDirectSend will stop it');
    assert.doesNotMatch(`${docker?.recommendation} ${docker?.powershell}`, DANGEROUS);

    const helo = by.get('10.9.9.9');
    assert.equal(helo?.classification, 'unknown');
    assert.deepEqual(helo?.signals, ['internal range 10.0.0.0/8', "organization's SPF: fail (-all)", 'foreign HELO mail.evil.test']);
    assert.equal(helo?.action, 'investigate');
    assert.doesNotMatch(`${helo?.recommendation} ${helo?.powershell}`, DANGEROUS);

    const lo = by.get('127.0.0.1');
    assert.equal(lo?.classification, 'device-or-app');
    assert.equal(lo?.reason, 'internal range 127.0.0.0/8 decided');
    assert.match(lo?.warnings[0] ?? '', /^client IP 127\.0\.0\.1 is loopback/);

    const dev = by.get('10.20.0.5');
    assert.equal(dev?.classification, 'device-or-app');
    assert.deepEqual(dev?.warnings, []);
    assert.ok(r.summary.some((l) => /^warning: 3 source\(s\) carry a warning/.test(l)), r.summary.join('\n'));
  } finally {
    t.close();
  }
});

test('classify: an IP authorised through a shared service include is third-party-service, never a /32 connector', async () => {
  const t = tempTrace();
  try {
    const includes: Record<string, string> = {
      '198.51.100.1': 'include:sendgrid.net',
      '198.51.100.2': 'include:amazonses.com',
      '198.51.100.3': 'include:servers.mcsv.net',
      '198.51.100.4': '+include:_spf.google.com',
      '198.51.100.5': 'include:spf.vendor.example',
      '198.51.100.6': 'ip4:198.51.100.6',
    };
    for (const ip of Object.keys(includes)) addRow(t.db, { clientIp: ip, mailFrom: `app${ip.slice(-1)}@example.com`, helo: 'o1.ptr.example.net', auth: { spf: 'pass', dkim: 'pass', dmarc: 'pass' } });
    const spfCheck: SpfAuthorizer = async (ip) => ({ result: 'pass', mechanism: includes[ip] });
    const r = await directSendReportFrom(sqliteTraceStore(t.db), w(), { spfCheck });
    const by = new Map(r.sources.map((s) => [s.clientIp, s]));
    const expect: [string, string, string][] = [
      ['198.51.100.1', 'SendGrid', 'dmarc-aligned'],
      ['198.51.100.2', 'Amazon SES', 'dmarc-aligned'],
      ['198.51.100.3', 'Mailchimp', 'dmarc-aligned'],
      ['198.51.100.4', 'Google Workspace', 'dmarc-aligned'],
      ['198.51.100.5', '', 'vendor-connector'],
    ];
    for (const [ip, service, action] of expect) {
      const s = by.get(ip);
      assert.equal(s?.classification, 'third-party-service', ip);
      assert.equal(s?.sharedService, service, ip);
      assert.equal(s?.action, action, ip);
      assert.deepEqual(s?.signals, [`organization's SPF: pass (${includes[ip]})`]);
      // Never a connector for the one address seen: a shared service's IPs send for every customer.
      assert.doesNotMatch(`${s?.recommendation}\n${s?.powershell}`, new RegExp(`${ip.replace(/\./g, '\\.')}(/32)?\\b`), ip);
      assert.ok(!/^(mailgate connector add|New-InboundConnector)/.test(s?.recommendation ?? '') && !/^New-InboundConnector/.test(s?.powershell ?? ''), `${ip}: no runnable connector`);
    }
    assert.match(by.get('198.51.100.5')?.powershell ?? '', /^# New-InboundConnector .*-SenderIPAddresses <the ranges the service documents for your account \(include:spf\.vendor\.example\); not the one address seen>/);
    // The organization's own ip4 term: a device or app, connector by IP.
    assert.equal(by.get('198.51.100.6')?.classification, 'device-or-app');
    assert.equal(by.get('198.51.100.6')?.action, 'connector-ip');
  } finally {
    t.close();
  }
});

test('classify: rows without a client IP, or outbound / intra-org, are never Direct Send sources', async () => {
  const t = tempTrace();
  try {
    const at = Date.now() - 3_600_000;
    addRow(t.db, { clientIp: '', mailFrom: 'alice@example.com', listener: 'exo:unknown', source: 'import:x', receivedAt: at });
    addRow(t.db, { clientIp: '10.0.0.5', mailFrom: 'alice@example.com', listener: 'exo:outbound', source: 'import:x', receivedAt: at });
    addRow(t.db, { clientIp: '10.0.0.6', mailFrom: 'bob@example.com', listener: 'exo:intra-org', source: 'import:x', receivedAt: at });
    addRow(t.db, { clientIp: '', mailFrom: 'carol@example.com', listener: 'mx', receivedAt: at });
    addRow(t.db, { clientIp: '203.0.113.5', mailFrom: 'printer@example.com', listener: 'exo:inbound', source: 'import:x', receivedAt: at });
    const r = await directSendReportFrom(sqliteTraceStore(t.db), w(), { spfCheck: failAll });
    assert.deepEqual(r.sources.map((s) => s.clientIp), ['203.0.113.5']);
    assert.ok(r.sources.every((s) => !/alice|bob|carol/.test(s.recommendation + s.powershell)), 'no advice for an internal mailbox');
    assert.ok(r.summary.includes('imported copies not counted as Direct Send: 0 through a connector (Connectors/connector_id), 2 outbound or intra-org (EmailDirection/directionality, or ToIP set), 1 without a client IP'), r.summary.join('\n'));
  } finally {
    t.close();
  }
});
