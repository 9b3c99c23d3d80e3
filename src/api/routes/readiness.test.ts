/**
 * Adopt as connector and Create user over the API (inject, real SQLite store and trace): the
 * preview (connector by the one address seen, diff, replay), the confirm with its base version
 * (409 when the configuration changed) and evidence fingerprint (409 with the new preview when
 * the source's evidence changed), and the unsafe cases refused: a likely spoof, an
 * unclassified source, a loopback source without acknowledging its warning, a user for a spoof.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';
import { verifyPassword } from '../../config/index.ts';
import { ensureTraceSchema } from '../../trace/index.ts';
import { addRow } from '../../trace/reports/test-rows.ts';

const SPF = 'v=spf1 -all';
const printer = { clientIp: '10.1.2.3', sender: 'printer@example.com', spf: SPF };
const spoof = { clientIp: '203.0.113.9', sender: 'ceo@example.com', spf: SPF };
const stranger = { clientIp: '198.51.100.7', sender: 'app@example.com', spf: SPF };
const looped = { clientIp: '127.0.0.5', sender: 'scanner@example.com', spf: SPF };

type Preview = {
  baseVersion: number;
  evidence: { fingerprint: string; classification: string; action: string; certCn: string; messages: number; lastSeen: string };
  connector: { name: string; connectorType: string; senderIPAddresses: string[]; senderDomains: string[]; restrictDomainsToIPAddresses: boolean };
  diff: string;
  warnings: string[];
  source: { classification: string };
  replay: { replayed: number; attribution: { messages: number; toConnector: number; now: Record<string, number> } };
};

test('readiness: adopt previews a /32 connector with diff and replay, applies on its base version only, and refuses unsafe sources', async () => {
  const f = await apiFixture();
  try {
    const db = f.ctx.db;
    ensureTraceSchema(db);
    addRow(db, { clientIp: '10.1.2.3', mailFrom: 'printer@example.com', helo: 'printer.example.com', subject: 'scan 1' });
    addRow(db, { clientIp: '10.1.2.3', mailFrom: 'printer@example.com', helo: 'printer.example.com', subject: 'scan 2' });
    addRow(db, { clientIp: '203.0.113.9', mailFrom: 'ceo@example.com', helo: 'evil.test', auth: { spf: 'fail', dkim: 'none', dmarc: 'fail' } });
    addRow(db, { clientIp: '198.51.100.7', mailFrom: 'app@example.com', helo: 'app.example.net' });
    addRow(db, { clientIp: '127.0.0.5', mailFrom: 'scanner@example.com', helo: 'scanner.example.com' });
    const post = (scope: 'read' | 'admin' | undefined, url: string, payload: object) => f.call(scope, { method: 'POST', url, payload });

    assert.equal((await post(undefined, '/api/v1/readiness/adopt/preview', printer)).statusCode, 401);
    const pr = await post('read', '/api/v1/readiness/adopt/preview', printer);
    assert.equal(pr.statusCode, 200, pr.body);
    const p = pr.json<Preview>();
    assert.equal(p.source.classification, 'device-or-app');
    assert.deepEqual(p.connector.senderIPAddresses, ['10.1.2.3/32'], 'never wider than the one address seen');
    assert.deepEqual(p.connector.senderDomains, ['example.com']);
    assert.equal(p.connector.connectorType, 'Partner');
    assert.equal((await post('read', '/api/v1/readiness/adopt/preview', { ...printer, connectorType: 'OnPremises' })).statusCode, 400, 'OnPremises (relay out, no DMARC) is not on offer');
    assert.equal(p.connector.restrictDomainsToIPAddresses, false);
    assert.match(p.diff, /\+.*Direct Send 10\.1\.2\.3/);
    assert.deepEqual(p.replay.attribution.now, { 'direct-send': 2 });
    assert.equal(p.replay.attribution.toConnector, 2);
    assert.equal(p.replay.replayed, 5);
    assert.equal((await f.ctx.store.currentVersion()), p.baseVersion, 'a preview saves nothing');

    const apply = { ...printer, baseVersion: p.baseVersion, evidence: p.evidence.fingerprint };
    assert.equal((await post('read', '/api/v1/readiness/adopt', apply)).statusCode, 403);
    assert.equal((await post('admin', '/api/v1/readiness/adopt', { ...printer, baseVersion: p.baseVersion })).statusCode, 400, 'the evidence fingerprint is required');
    const stale = await post('admin', '/api/v1/readiness/adopt', { ...apply, baseVersion: p.baseVersion - 1 || 99 });
    assert.equal(stale.statusCode, 409, stale.body);
    const ok = await post('admin', '/api/v1/readiness/adopt', apply);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { version: p.baseVersion + 1, connector: 'Direct Send 10.1.2.3' });
    const cur = (await f.ctx.store.current())!;
    assert.equal(cur.actor, 'admin');
    assert.match(cur.comment, /^adopt 10\.1\.2\.3 printer@example\.com as connector Direct Send 10\.1\.2\.3/);
    // The next message from the printer is attributed to the connector.
    const what = await post('read', '/api/v1/policy/test', { ip: '10.1.2.3', from: 'printer@example.com', to: ['user@example.com'], spf: 'none', dkim: 'none', dmarc: 'none' });
    assert.equal(what.statusCode, 200, what.body);
    assert.match(what.body, /"kind":"connector","connector":"Direct Send 10\.1\.2\.3"/);
    assert.equal((await post('admin', '/api/v1/readiness/adopt', { ...apply, baseVersion: cur.version })).statusCode, 409, 'the name is taken now');

    // Another change between preview and confirm: 409, nothing saved.
    const p2 = (await post('read', '/api/v1/readiness/adopt/preview', { ...looped, name: 'Scanner' })).json<Preview>();
    assert.match(p2.warnings.join(' '), /loopback/);
    assert.equal((await f.call('admin', { method: 'PATCH', url: '/api/v1/connectors/Direct%20Send%2010.1.2.3', payload: { comment: 'printer' } })).statusCode, 200);
    const raced = await post('admin', '/api/v1/readiness/adopt', { ...looped, name: 'Scanner', baseVersion: p2.baseVersion, evidence: p2.evidence.fingerprint, acknowledgeWarnings: true });
    assert.equal(raced.statusCode, 409);
    assert.match(raced.json<{ detail: string }>().detail, /changed since the preview/);
    const base = await f.ctx.store.currentVersion();
    const unacked = await post('admin', '/api/v1/readiness/adopt', { ...looped, name: 'Scanner', baseVersion: base, evidence: p2.evidence.fingerprint });
    assert.equal(unacked.statusCode, 422);
    assert.match(unacked.json<{ detail: string }>().detail, /warnings that need acknowledging: client IP 127\.0\.0\.5 is loopback/);
    assert.equal((await post('admin', '/api/v1/readiness/adopt', { ...looped, name: 'Scanner', baseVersion: base, evidence: p2.evidence.fingerprint, acknowledgeWarnings: true })).statusCode, 200);

    // Unsafe sources: refused with the report's reason, nothing saved.
    const before = await f.ctx.store.currentVersion();
    const sp = await post('read', '/api/v1/readiness/adopt/preview', spoof);
    assert.equal(sp.statusCode, 422);
    assert.match(sp.json<{ detail: string }>().detail, /^refused: 203\.0\.113\.9 ceo@example\.com is classified likely-spoof/);
    assert.equal((await post('admin', '/api/v1/readiness/adopt', { ...spoof, baseVersion: before, evidence: p.evidence.fingerprint, acknowledgeWarnings: true })).statusCode, 422);
    const unk = await post('admin', '/api/v1/readiness/adopt', { ...stranger, baseVersion: before, evidence: p.evidence.fingerprint });
    assert.equal(unk.statusCode, 422);
    assert.match(unk.json<{ detail: string }>().detail, /is unclassified .*investigate/);
    const su = await post('admin', '/api/v1/readiness/users', spoof);
    assert.equal(su.statusCode, 422);
    assert.match(su.json<{ detail: string }>().detail, /likely-spoof/);
    assert.equal((await post('admin', '/api/v1/readiness/users', stranger)).statusCode, 422);
    assert.equal((await post('read', '/api/v1/readiness/adopt/preview', { ...printer, clientIp: '10.9.9.9' })).statusCode, 404);
    assert.equal((await f.ctx.store.currentVersion()), before);
    assert.equal((await f.ctx.store.current())!.config.users.length, 0);
  } finally {
    await f.close();
  }
});

test('readiness: create user for a device gives it its own address only, with a password shown once', async () => {
  const f = await apiFixture();
  try {
    ensureTraceSchema(f.ctx.db);
    addRow(f.ctx.db, { clientIp: '10.1.2.3', mailFrom: 'Printer@Example.com', helo: 'printer.example.com' });
    assert.equal((await f.call(undefined, { method: 'POST', url: '/api/v1/readiness/users', payload: printer })).statusCode, 401);
    assert.equal((await f.call('operate', { method: 'POST', url: '/api/v1/readiness/users', payload: printer })).statusCode, 403);
    const r = await f.call('admin', { method: 'POST', url: '/api/v1/readiness/users', payload: printer });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['cache-control'], 'no-store');
    const u = r.json<{ name: string; password: string; sendAs: string[] }>();
    assert.equal(u.name, 'printer@example.com');
    assert.deepEqual(u.sendAs, ['printer@example.com'], 'never @domain or *');
    assert.ok(u.password.length >= 20);
    const stored = (await f.ctx.store.current())!.config.users.find((x) => x.name === u.name);
    assert.equal(await verifyPassword(u.password, stored?.passwordHash ?? ''), true);
    assert.doesNotMatch((await f.call('read', { method: 'GET', url: '/api/v1/users' })).body, new RegExp(u.password));
    assert.equal((await f.call('admin', { method: 'POST', url: '/api/v1/readiness/users', payload: printer })).statusCode, 409, 'the name is taken');
  } finally {
    await f.close();
  }
});

test('readiness: a source seen only in an imported Exchange export is not adopted into mailgate, and imported rows do not count as evidence', async () => {
  const f = await apiFixture();
  try {
    ensureTraceSchema(f.ctx.db);
    addRow(f.ctx.db, { clientIp: '10.1.2.3', mailFrom: 'printer@example.com', helo: 'printer.example.com', source: 'import:tenant1' });
    const r = await f.call('read', { method: 'POST', url: '/api/v1/readiness/adopt/preview', payload: printer });
    assert.equal(r.statusCode, 404, r.body);
    assert.equal((await f.call('read', { method: 'POST', url: '/api/v1/readiness/adopt/preview', payload: { ...printer, source: 'import:tenant1' } })).statusCode, 400, 'no source parameter');
    addRow(f.ctx.db, { clientIp: '10.1.2.3', mailFrom: 'printer@example.com', helo: 'printer.example.com' });
    const p = await f.call('read', { method: 'POST', url: '/api/v1/readiness/adopt/preview', payload: printer });
    assert.equal(p.statusCode, 200, p.body);
    assert.equal(p.json<{ source: { messages: number } }>().source.messages, 1, 'the gateway row only');
  } finally {
    await f.close();
  }
});

test('readiness: adopt confirm on evidence that changed since the preview is 409 with the new preview; the console\'s resend of it applies', async () => {
  const f = await apiFixture();
  try {
    ensureTraceSchema(f.ctx.db);
    addRow(f.ctx.db, { clientIp: '10.1.2.3', mailFrom: 'printer@example.com', helo: 'printer.example.com' });
    const post = (scope: 'read' | 'admin', url: string, payload: object) => f.call(scope, { method: 'POST', url, payload });
    const p = (await post('read', '/api/v1/readiness/adopt/preview', printer)).json<Preview>();
    assert.equal(p.evidence.action, 'connector-ip');
    assert.equal(p.evidence.messages, 1);
    // After the preview the printer presents a verified certificate: the connector would be another one.
    addRow(f.ctx.db, { clientIp: '10.1.2.3', mailFrom: 'printer@example.com', helo: 'printer.example.com', certCn: 'printer.example.com', certVerified: true, tlsVersion: 'TLSv1.3' });
    const raced = await post('admin', '/api/v1/readiness/adopt', { ...printer, baseVersion: p.baseVersion, evidence: p.evidence.fingerprint });
    assert.equal(raced.statusCode, 409, raced.body);
    const body = raced.json<{ detail: string; preview: Preview & { connector: { tlsSenderCertificateName?: string } } }>();
    assert.match(body.detail, /changed since the preview .*connector-certificate/);
    assert.equal(body.preview.evidence.action, 'connector-certificate');
    assert.equal(body.preview.evidence.certCn, 'printer.example.com');
    assert.equal(body.preview.connector.tlsSenderCertificateName, 'printer.example.com');
    assert.equal(await f.ctx.store.currentVersion(), p.baseVersion, 'nothing saved');
    const ok = await post('admin', '/api/v1/readiness/adopt', { ...printer, baseVersion: body.preview.baseVersion, evidence: body.preview.evidence.fingerprint });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((await f.ctx.store.current())!.config.inboundConnectors.find((c) => c.name === body.preview.connector.name)?.tlsSenderCertificateName, 'printer.example.com');
  } finally {
    await f.close();
  }
});
