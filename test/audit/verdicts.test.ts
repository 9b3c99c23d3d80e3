/**
 * @module test/audit/verdicts.test
 * Exchange's own verdicts decide a source's class, one field at a time: the same sender of the
 * CFO's address from an outside IP, not in the organization's SPF, imported from real-shaped
 * exports (written here) that differ in ONE field from a neutral baseline. The baseline is
 * `unknown`; each verdict field turns it into `likely-spoof` (and is named among the signals), or
 * removes it from the sources (Connectors, EmailDirection, directionality, blank FromIP); the
 * organization's SPF authorising the IP (--spf) turns it into `device-or-app`.
 * Touches: temporary directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/core/sqlite.ts';
import { createSpfAuthorizer, importFiles } from '../../src/audit/index.ts';
import { directSendReportFrom, reportWindow, type DirectSendSource } from '../../src/trace/reports/index.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import * as F from './fixtures.ts';

const now = Date.now();
const at = F.isoTime7(now - 5 * 3_600_000);
const IP = '198.51.100.66';
const CFO = 'cfo@contoso.com';
const SPF_WITHOUT = 'v=spf1 ip4:203.0.113.0/26 -all';
const SPF_WITH = `v=spf1 ip4:203.0.113.0/26 ip4:${IP} -all`;

let seq = 0;
/** A fresh network message id per row: each case is its own import (the dedupe key spans imports). */
const nextId = (): string => `e${String(++seq).padStart(7, '0')}-0000-0000-0000-000000000001`;

const mtRow = (o: Partial<Record<'Status' | 'FromIP' | 'ToIP', string>> = {}): string =>
  F.csv(F.MESSAGE_TRACE_HEADER, [[F.usTime(now - 5 * 3_600_000), CFO, 'alice@contoso.com', 'Wire transfer', o.Status ?? 'Delivered', o.ToIP ?? '', o.FromIP ?? IP, '1000', '<w1@x>', nextId()]]);

const eeRow = (o: Record<string, unknown> = {}): string =>
  JSON.stringify({
    Timestamp: at, NetworkMessageId: nextId(), InternetMessageId: '<w2@x>', SenderMailFromAddress: CFO, SenderFromAddress: CFO,
    SenderIPv4: IP, RecipientEmailAddress: 'alice@contoso.com', Subject: 'Wire transfer', EmailDirection: 'Inbound', DeliveryAction: 'Delivered',
    DeliveryLocation: 'Inbox/folder', ThreatTypes: '', DetectionMethods: '', AuthenticationDetails: '{}', Connectors: null, ...o,
  }) + '\n';

const hsRow = (o: Partial<Record<'recipient_status' | 'directionality' | 'connector_id' | 'custom_data', string>> = {}): string =>
  F.csv([...F.HISTORICAL_HEADER, 'custom_data'], [[at, CFO, o.recipient_status ?? 'alice@contoso.com##Receive, Deliver', 'Wire transfer', '1000', '<w3@x>', nextId(), IP, o.directionality ?? 'Incoming', o.connector_id ?? '', 'Normal', o.custom_data ?? '']]);

interface Case {
  name: string;
  file: string;
  text: string;
  spf?: string;
  /** Expected class, or null: not a Direct Send source at all. */
  cls: DirectSendSource['classification'] | null;
  /** A signal line that must be among the source's signals. */
  signal?: RegExp;
}

const CASES: Case[] = [
  { name: 'mt-baseline', file: 'mt.csv', text: mtRow(), cls: 'unknown' },
  { name: 'mt-quarantined', file: 'mt.csv', text: mtRow({ Status: 'Quarantined' }), cls: 'likely-spoof', signal: /^Status Quarantined 1\/1$/ },
  { name: 'mt-filtered', file: 'mt.csv', text: mtRow({ Status: 'FilteredAsSpam' }), cls: 'likely-spoof', signal: /^Status FilteredAsSpam 1\/1$/ },
  { name: 'mt-failed', file: 'mt.csv', text: mtRow({ Status: 'Failed' }), cls: 'likely-spoof', signal: /^Status Failed 1\/1$/ },
  { name: 'mt-in-spf', file: 'mt.csv', text: mtRow({ Status: 'Quarantined' }), spf: SPF_WITH, cls: 'device-or-app', signal: /^organization's SPF: pass \(ip4:198\.51\.100\.66\)$/ },
  { name: 'mt-blank-fromip', file: 'mt.csv', text: mtRow({ FromIP: '' }), cls: null },
  { name: 'mt-outbound', file: 'mt.csv', text: mtRow({ ToIP: '192.0.2.9' }), cls: null },
  { name: 'ee-baseline', file: 'ee.jsonl', text: eeRow(), cls: 'unknown' },
  { name: 'ee-junked', file: 'ee.jsonl', text: eeRow({ DeliveryAction: 'Junked', DeliveryLocation: 'Inbox/folder' }), cls: 'likely-spoof', signal: /^DeliveryAction Junked 1\/1$/ },
  { name: 'ee-blocked', file: 'ee.jsonl', text: eeRow({ DeliveryAction: 'Blocked', DeliveryLocation: '' }), cls: 'likely-spoof', signal: /^DeliveryAction Blocked 1\/1$/ },
  { name: 'ee-quarantine-location', file: 'ee.jsonl', text: eeRow({ DeliveryAction: '', DeliveryLocation: 'Quarantine' }), cls: 'likely-spoof', signal: /^DeliveryLocation Quarantine 1\/1$/ },
  { name: 'ee-phish', file: 'ee.jsonl', text: eeRow({ ThreatTypes: 'Phish' }), cls: 'likely-spoof', signal: /^ThreatTypes Phish 1\/1$/ },
  { name: 'ee-detection', file: 'ee.jsonl', text: eeRow({ DetectionMethods: { Phish: ['Spoof intra-org'] } }), cls: 'likely-spoof', signal: /^DetectionMethods \{"Phish":\["Spoof intra-org"\]\} 1\/1$/ },
  { name: 'ee-auth-spf-dmarc', file: 'ee.jsonl', text: eeRow({ AuthenticationDetails: '{"SPF":"fail","DMARC":"fail"}' }), cls: 'likely-spoof', signal: /^recorded SPF fail \+ DMARC fail 1\/1$/ },
  { name: 'ee-auth-compauth', file: 'ee.jsonl', text: eeRow({ AuthenticationDetails: '{"CompAuth":"fail"}' }), cls: 'likely-spoof', signal: /^CompAuth fail 1\/1$/ },
  { name: 'ee-connector', file: 'ee.jsonl', text: eeRow({ ThreatTypes: 'Phish', Connectors: 'Partner relay' }), cls: null },
  { name: 'ee-intra-org', file: 'ee.jsonl', text: eeRow({ ThreatTypes: 'Phish', EmailDirection: 'Intra-org' }), cls: null },
  { name: 'hs-baseline', file: 'hs.csv', text: hsRow(), cls: 'unknown' },
  { name: 'hs-quarantined', file: 'hs.csv', text: hsRow({ recipient_status: 'alice@contoso.com##Receive, Deliver, Quarantined' }), cls: 'likely-spoof', signal: /^Status Quarantined 1\/1$/ },
  { name: 'hs-sfv', file: 'hs.csv', text: hsRow({ custom_data: 'S:SFA=SUM|SFV=SPM|IPV=CAL|SRV=|SFS=|SCL=5' }), cls: 'likely-spoof', signal: /^custom_data SFV SPM 1\/1$/ },
  { name: 'hs-cat', file: 'hs.csv', text: hsRow({ custom_data: 'S:SFA=SUM|SFV=NSPM|CAT=SPOOF' }), cls: 'likely-spoof', signal: /^custom_data CAT SPOOF 1\/1$/ },
  { name: 'hs-originating', file: 'hs.csv', text: hsRow({ directionality: 'Originating', custom_data: 'S:SFA=SUM|SFV=SPM' }), cls: null },
  { name: 'hs-connector', file: 'hs.csv', text: hsRow({ connector_id: 'Partner relay', custom_data: 'S:SFA=SUM|SFV=SPM' }), cls: null },
];

test('verdicts: each Exchange verdict field decides the class and is named among the signals', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-verdicts-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const w = reportWindow('2d', now, 90);
    const results: string[] = [];
    for (const c of CASES) {
      const file = F.write(dir, `${c.name}-${c.file}`, c.text, 'utf8');
      const s = await importFiles(db, [file], { name: c.name, tenantDomains: ['contoso.com'], dateFormat: 'mdy' });
      assert.equal(s.malformedCount, 0, `${c.name}: ${JSON.stringify(s.malformed)}`);
      const spfCheck = createSpfAuthorizer({ record: c.spf ?? SPF_WITHOUT, tenantDomains: ['contoso.com'], resolve: F.fakeResolve });
      const r = await directSendReportFrom(sqliteTraceStore(db), w, { source: `import:${c.name}`, spfCheck });
      if (c.cls === null) {
        assert.deepEqual(r.sources, [], `${c.name}: not a Direct Send source`);
        results.push(`${c.name}: none`);
        continue;
      }
      assert.equal(r.sources.length, 1, c.name);
      const src = r.sources[0]!;
      assert.equal(src.classification, c.cls, `${c.name}: ${src.reason} [${src.signals.join('; ')}]`);
      if (c.signal) assert.ok(src.signals.some((l) => c.signal!.test(l)), `${c.name}: ${c.signal} not among ${JSON.stringify(src.signals)}`);
      assert.doesNotMatch(`${src.recommendation}\n${src.powershell}`, /SmtpClientAuthenticationDisabled|Set-CASMailbox|user add/, `${c.name}: never an SMTP AUTH grant`);
      if (c.cls === 'likely-spoof') assert.equal(src.powershell, '# nothing to migrate: RejectDirectSend will stop it', c.name);
      results.push(`${c.name}: ${src.classification}`);
    }
    assert.equal(results.length, CASES.length);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verdicts: an EmailEvents export after a message trace export adds its verdicts to the same copies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-verdicts-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const id = nextId();
    const mt = F.csv(F.MESSAGE_TRACE_HEADER, [[F.usTime(now - 5 * 3_600_000), CFO, 'alice@contoso.com', 'Wire transfer', 'Delivered', '', IP, '1000', '<m@x>', id]]);
    await importFiles(db, [F.write(dir, 'mt.csv', mt, 'utf8')], { name: 'both', tenantDomains: ['contoso.com'], dateFormat: 'mdy' });
    const spfCheck = createSpfAuthorizer({ record: SPF_WITHOUT, tenantDomains: ['contoso.com'], resolve: F.fakeResolve });
    const w = reportWindow('2d', now, 90);
    assert.equal((await directSendReportFrom(sqliteTraceStore(db), w, { source: 'import:both', spfCheck })).sources[0]?.classification, 'unknown');
    const ee = eeRow({ NetworkMessageId: id, ThreatTypes: 'Phish' });
    const s = await importFiles(db, [F.write(dir, 'ee.jsonl', ee, 'utf8')], { name: 'both', tenantDomains: ['contoso.com'], dateFormat: 'mdy' });
    assert.equal(s.files[0]?.duplicates, 1, 'the same copy (network message id + recipient)');
    const stored = db.prepare('SELECT exo_verdicts AS v FROM trace_message WHERE import_name = ?').get('both') as { v: string };
    assert.deepEqual(JSON.parse(stored.v), { status: 'Delivered', deliveryAction: 'Delivered', deliveryLocation: 'Inbox/folder', threatTypes: 'Phish', direction: 'Inbound' });
    const src = (await directSendReportFrom(sqliteTraceStore(db), w, { source: 'import:both', spfCheck })).sources[0];
    assert.equal(src?.classification, 'likely-spoof');
    assert.ok(src?.signals.includes('ThreatTypes Phish 1/1'), JSON.stringify(src?.signals));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
