/**
 * ops/adopt beyond the API test: the connector follows the recommendation for every kind of
 * source — a verified certificate (no IPs, TLS required), an IPv6 device (/128), Partner scoped
 * to the sender domain (never OnPremises, which could relay out) — and a shared sending service, whatever its SPF pass, is refused, as is a user for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openContext } from '../cli/context.ts';
import { ensureTraceSchema } from '../trace/index.ts';
import { addRow } from '../trace/reports/test-rows.ts';
import { removeDir, tempDir } from '../../test/helpers/gateway.ts';
import { adoptApply, adoptPreview, createSourceUser, EvidenceChanged } from './adopt.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';

async function withCtx(fn: (ctx: OpsContext) => Promise<void>): Promise<void> {
  const dir = tempDir('mailgate-adopt-');
  const c = openContext({ data: dir, create: true });
  try {
    ensureTraceSchema(c.db);
    await fn({ db: c.db, store: c.store, dataDir: c.dataDir, actor: 'alice', trace: sqliteTraceStore(c.db) });
  } finally {
    c.close();
    removeDir(dir);
  }
}

const SPF = 'v=spf1 -all';

test('adopt: by the verified certificate, by an IPv6 /128, always a Partner connector scoped to the sender domain', async () => {
  await withCtx(async (ctx) => {
    addRow(ctx.db, { clientIp: '10.0.0.9', mailFrom: 'mfp@example.com', helo: 'mfp.example.com', certCn: 'mfp.example.com', certVerified: true, tlsVersion: 'TLSv1.3' });
    addRow(ctx.db, { clientIp: 'fd00::25', mailFrom: 'app@example.com', helo: 'app.example.com' });
    const cert = await adoptPreview(ctx, { clientIp: '10.0.0.9', sender: 'mfp@example.com', spf: SPF });
    assert.equal(cert.source.action, 'connector-certificate');
    assert.deepEqual(
      { name: cert.connector.name, ips: cert.connector.senderIPAddresses, cn: cert.connector.tlsSenderCertificateName, tls: cert.connector.requireTls },
      { name: 'Direct Send mfp.example.com', ips: [], cn: 'mfp.example.com', tls: true },
    );
    assert.equal(cert.replay.attribution.toConnector, 1);
    const v6 = await adoptPreview(ctx, { clientIp: 'fd00::25', sender: 'app@example.com', spf: SPF });
    assert.deepEqual([v6.connector.senderIPAddresses, v6.connector.connectorType, v6.connector.senderDomains], [['fd00::25/128'], 'Partner', ['example.com']]);
    const r = await adoptApply(ctx, { clientIp: 'fd00::25', sender: 'app@example.com', spf: SPF, baseVersion: v6.baseVersion, evidence: v6.evidence.fingerprint });
    assert.equal(r.version, v6.baseVersion + 1);
    assert.equal((await ctx.store.current())?.actor, 'alice');
  });
});

test('adopt and create user: a shared sending service is refused even though the SPF include passes it', async () => {
  await withCtx(async (ctx) => {
    addRow(ctx.db, { clientIp: '198.51.100.20', mailFrom: 'news@example.com', helo: 'o1.sendgrid.net' });
    const spfCheck = async () => ({ result: 'pass', mechanism: 'include:sendgrid.net' });
    const ref = { clientIp: '198.51.100.20', sender: 'news@example.com' };
    await assert.rejects(adoptPreview(ctx, ref, undefined, { spfCheck }), (e: unknown) => e instanceof OpsError && e.kind === 'invalid' && /third-party-service .*SendGrid.*not a connector by the address seen/.test(e.message));
    await assert.rejects(adoptApply(ctx, { ...ref, baseVersion: (await ctx.store.currentVersion()), evidence: 'from-a-preview' }, { spfCheck }), /third-party-service/);
    await assert.rejects(createSourceUser(ctx, ref, { spfCheck }), /third-party-service .*not an SMTP AUTH user/);
    assert.equal((await ctx.store.currentVersion()), 1);
  });
});

test('adopt confirm: new evidence since the preview (now a verified certificate) is refused with the new preview; more messages of the same kind are not', async () => {
  await withCtx(async (ctx) => {
    addRow(ctx.db, { clientIp: '10.0.0.7', mailFrom: 'scan@example.com', helo: 'scan.example.com' });
    const ref = { clientIp: '10.0.0.7', sender: 'scan@example.com', spf: SPF };
    const p = await adoptPreview(ctx, ref);
    assert.equal(p.source.action, 'connector-ip');
    assert.deepEqual({ ...p.evidence, fingerprint: typeof p.evidence.fingerprint }, { fingerprint: 'string', classification: p.source.classification, action: 'connector-ip', certCn: '', messages: 1, lastSeen: p.evidence.lastSeen });
    // The same device presents a verified certificate after the preview: the connector would now be by certificate.
    addRow(ctx.db, { clientIp: '10.0.0.7', mailFrom: 'scan@example.com', helo: 'scan.example.com', certCn: 'scan.example.com', certVerified: true, tlsVersion: 'TLSv1.3' });
    const refused = await adoptApply(ctx, { ...ref, baseVersion: p.baseVersion, evidence: p.evidence.fingerprint }).then(
      () => assert.fail('applied on stale evidence'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof EvidenceChanged);
    assert.equal(refused.kind, 'conflict');
    assert.match(refused.message, /evidence for 10\.0\.0\.7 scan@example\.com changed since the preview \(now .*connector-certificate, verified certificate scan\.example\.com\)/);
    assert.equal(refused.preview.connector.tlsSenderCertificateName, 'scan.example.com');
    assert.notEqual(refused.preview.evidence.fingerprint, p.evidence.fingerprint);
    assert.equal(await ctx.store.currentVersion(), p.baseVersion, 'nothing saved');
    // Another message of the same kind: the fingerprint holds, the new preview applies.
    addRow(ctx.db, { clientIp: '10.0.0.7', mailFrom: 'scan@example.com', helo: 'scan.example.com', certCn: 'scan.example.com', certVerified: true, tlsVersion: 'TLSv1.3' });
    const r = await adoptApply(ctx, { ...ref, baseVersion: refused.preview.baseVersion, evidence: refused.preview.evidence.fingerprint });
    assert.equal(r.connector, refused.preview.connector.name);
    assert.equal(r.version, p.baseVersion + 1);
  });
});
