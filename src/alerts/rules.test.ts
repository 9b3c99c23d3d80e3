/** Each alert rule over a real SQLite trace (rows written by the trace store's own insert; the trace rules read it through the SQLite TraceStore). */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../core/sqlite.ts';
import { validateConfig } from '../config/load.ts';
import type { ConfigInput } from '../config/schema.ts';
import { ensureTraceSchema, insertMessageSync, type TraceMessage, type TraceStore } from '../trace/index.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';
import { connectorDrift, newSources, rejectionSpikes, silentConnectors } from './rules/traffic.ts';
import { certificateExpiry, queueThresholds, staleAllowEntries } from './rules/state.ts';
import type { RuleContext } from './types.ts';
import { createTestCa, issueCert, writePem } from '../../test/helpers/pki.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function freshDb(): Db {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-alerts-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'mailgate.db'));
  ensureTraceSchema(db);
  return db;
}

let seq = 0;
function row(db: Db, r: Partial<TraceMessage> & { receivedAt: number }): void {
  const id = `T${String(++seq).padStart(8, '0')}`;
  insertMessageSync(db, { id, connectionId: id, clientIp: '192.0.2.1', listener: 'mx', recipients: ['user@example.com'], status: 'Pending', source: 'gateway', ...r });
}

const traceOf = (db: Db): TraceStore => sqliteTraceStore(db);

function ctx(over: Partial<ConfigInput> = {}, rc: Partial<RuleContext> = {}): RuleContext {
  return { config: validateConfig({ acceptedDomains: [{ domainName: 'example.com', domainType: 'Authoritative' }], ...over }), now: NOW, since: NOW - 120_000, ...rc };
}

const ds = (ip: string, from: string, at: number): Partial<TraceMessage> & { receivedAt: number } => ({ clientIp: ip, mailFrom: from, attribution: 'direct-send', receivedAt: at });

test('new source: an IP never seen as direct-send, or a new sender from a known IP; none while learning', async () => {
  const db = freshDb();
  row(db, ds('192.0.2.10', 'scanner@example.com', NOW - 10 * DAY));
  row(db, ds('192.0.2.10', 'scanner@example.com', NOW - 30_000)); // known IP, known sender
  row(db, ds('192.0.2.10', 'payroll@example.com', NOW - 20_000)); // known IP, new sender
  row(db, ds('198.51.100.7', 'ceo@example.com', NOW - 10_000)); // new IP
  row(db, ds('198.51.100.7', 'ceo@example.com', NOW - 5_000)); // the same again: one alert
  const found = await newSources(ctx({ alerts: { learningDays: 7 } }), traceOf(db));
  assert.deepEqual(found.map((c) => c.key).sort(), ['ip:198.51.100.7', 'sender:payroll@example.com']);
  assert.equal(found.find((c) => c.key === 'ip:198.51.100.7')?.detail.messages, 2);
  assert.deepEqual(await newSources(ctx({ alerts: { learningDays: 30 } }), traceOf(db)), [], 'still learning');
});

test('connector drift: refusals with 5.7.51 grouped by the claimed domain', async () => {
  const db = freshDb();
  for (const ip of ['203.0.113.5', '203.0.113.6']) row(db, { clientIp: ip, mailFrom: 'billing@Fabrikam.test', status: 'Rejected', reply: '550 5.7.51 TenantInboundAttribution; Rejecting', receivedAt: NOW - 30_000 });
  row(db, { mailFrom: 'x@other.test', status: 'Rejected', reply: '550 5.7.1 relay denied', receivedAt: NOW - 30_000 });
  const found = await connectorDrift(ctx(), traceOf(db));
  assert.equal(found.length, 1);
  assert.equal(found[0]?.key, 'domain:fabrikam.test');
  assert.equal(found[0]?.detail.clientIps, 2);
});

test('connector silent: matched on each of the 7 days before the silent period, nothing since', async () => {
  const db = freshDb();
  const connectors = [{ name: 'Printers', connectorType: 'Partner' as const, senderIPAddresses: ['192.0.2.0/24'], senderDomains: ['example.com'] }];
  for (let d = 0; d < 7; d++) row(db, { connector: 'Printers', attribution: 'connector', receivedAt: NOW - 3 * DAY - d * DAY - 3_600_000 });
  assert.deepEqual((await silentConnectors(ctx({ inboundConnectors: connectors, alerts: { connectorSilentDays: 3 } }), traceOf(db))).map((c) => c.key), ['connector:Printers']);
  row(db, { connector: 'Printers', attribution: 'connector', receivedAt: NOW - DAY });
  assert.deepEqual(await silentConnectors(ctx({ inboundConnectors: connectors, alerts: { connectorSilentDays: 3 } }), traceOf(db)), []);
});

test('rejection spike: the last hour against the hourly average of the 7 days before, with a floor', async () => {
  const db = freshDb();
  for (let i = 0; i < 14; i++) row(db, { status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; Direct Send not allowed', receivedAt: NOW - 2 * DAY - i * 3_600_000 });
  for (let i = 0; i < 25; i++) row(db, { status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; Direct Send not allowed', receivedAt: NOW - 60_000 - i * 1000 });
  for (let i = 0; i < 5; i++) row(db, { status: 'Rejected', reply: '450 4.7.1 try later', receivedAt: NOW - 60_000 });
  const found = await rejectionSpikes(ctx(), traceOf(db));
  assert.deepEqual(found.map((c) => c.key), ['code:5.7.68']);
  assert.equal(found[0]?.detail.lastHour, 25);
  assert.deepEqual(await rejectionSpikes(ctx({ alerts: { rejectionSpike: { factor: 3, minCount: 30 } } }), traceOf(db)), [], 'under minCount');
});

test('queue thresholds: deferred count and the age of the oldest open message', () => {
  const c = ctx({ alerts: { deferredCount: 10, queueAgeSeconds: 600 } }, { queue: { byState: { deferred: 12 }, oldestOpenAt: NOW - 601_000 } });
  assert.deepEqual(queueThresholds(c).map((x) => x.kind).sort(), ['deferred-count', 'queue-age']);
  const ok = ctx({ alerts: { deferredCount: 10, queueAgeSeconds: 600 } }, { queue: { byState: { deferred: 9 }, oldestOpenAt: NOW - 599_000 } });
  assert.deepEqual(queueThresholds(ok), []);
});

test('certificate expiry: one alert per file at the nearest threshold crossed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-alerts-cert-'));
  dirs.push(dir);
  const ca = createTestCa();
  const soon = issueCert(ca, { cn: 'mx.example.com', server: true, days: 5 });
  const later = issueCert(ca, { cn: 'relay.example.com', client: true, days: 200 });
  const over = {
    receiveConnectors: [{ name: 'mx', port: 2525, role: 'mx' as const, tls: { mode: 'starttls' as const, certFile: writePem(dir, 'mx.pem', soon.cert), keyFile: writePem(dir, 'mx.key', soon.key) } }],
    routes: [{ name: 'eo', domains: ['*'], type: 'smtp' as const, host: '127.0.0.1', port: 25, clientCertFile: writePem(dir, 'c.pem', later.cert), clientKeyFile: writePem(dir, 'c.key', later.key) }],
  };
  const found = certificateExpiry(ctx(over, { now: Date.now() }));
  assert.equal(found.length, 1);
  assert.equal(found[0]?.detail.threshold, 7);
  assert.match(found[0]?.summary ?? '', /listener mx/);
});

test('stale allow entries: allow IPs and domains no message matched in the window', async () => {
  const db = freshDb();
  row(db, { clientIp: '192.0.2.50', receivedAt: NOW - DAY });
  const found = await staleAllowEntries(ctx({ lists: { allow: { ips: ['192.0.2.50', '192.0.2.99'], senderDomains: [] }, block: { ips: [], senderDomains: [] } } }), traceOf(db));
  assert.deepEqual(found.map((c) => c.key), ['allow-ip:192.0.2.99']);
});
