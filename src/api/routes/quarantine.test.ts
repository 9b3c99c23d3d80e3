/**
 * The quarantine routes through `inject()` over a real data directory (SQLite file, spool): list
 * with filters, show with a preview (text and attachments listed, HTML never rendered), export,
 * bad input as a 422 problem, unknown ids as 404, two releases at once (one 200, one 409, one
 * RELEASE event), and delete (204, gone, traced).
 * Touches: a temp data directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.ts';
import { newQueueId } from '../../core/ids.ts';
import { silentLogger } from '../../core/log.ts';
import { openContext } from '../../cli/context.ts';
import { QueueStore, Spool, createAcceptor } from '../../queue/index.ts';
import { ensureTraceSchema, insertMessageSync } from '../../trace/index.ts';
import { getTrace } from '../../stores/sqlite/trace-search.ts';
import { buildApi } from '../build.ts';
import { requestLink, requestRelease } from '../../ops/quarantine-requests.ts';
import { authorize } from '../../../test/helpers/api.ts';
import type { OpsContext } from '../../ops/context.ts';
import { sqliteTraceStore } from '../../stores/sqlite/trace-store.ts';

const MIME = [
  'From: "Payroll" <payroll@shop.test>',
  'To: user@example.com',
  'Subject: your payslip',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<p>Open the <b>attached</b> file &amp; sign=3D</p><script>alert(1)</script>',
  '--b1',
  'Content-Type: application/octet-stream; name="payslip.exe"',
  'Content-Disposition: attachment; filename="payslip.exe"',
  'Content-Transfer-Encoding: base64',
  '',
  'TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA',
  '--b1--',
  '',
].join('\r\n');

async function withApi(fn: (t: { inject: Awaited<ReturnType<typeof buildApi>>['inject']; id: string; store: QueueStore; db: ReturnType<typeof openContext>['db']; ops: OpsContext }) => Promise<void>): Promise<void> {
  const data = join(mkdtempSync(join(tmpdir(), 'mailgate-api-q-')), 'data');
  const ctx = openContext({ data, create: true });
  ensureTraceSchema(ctx.db);
  const spool = new Spool(join(data, 'spool'), { journal: false });
  await spool.init();
  const store = new QueueStore(ctx.db);
  const acceptor = createAcceptor({ spool, store, clock: systemClock });
  const id = await acceptor.acceptBytes(
    Buffer.from(MIME),
    {
      id: newQueueId(),
      receivedAt: Date.now(),
      envelope: { mailFrom: 'payroll@shop.test', rcptTo: ['user@example.com'] },
      prependHeaders: 'Received: test\r\n',
      facts: { headerFrom: 'payroll@shop.test', subject: 'your payslip', quarantine: { kind: 'dmarc', text: 'DMARC p=quarantine of shop.test' } },
    },
    'hold',
  );
  insertMessageSync(ctx.db, { id, connectionId: 'test', receivedAt: Date.now(), clientIp: '127.0.0.9', listener: 'mx', recipients: ['user@example.com'], status: 'Quarantined' });
  const deps = { logger: silentLogger, ops: (actor: string) => ({ db: ctx.db, store: ctx.store, dataDir: data, actor, trace: sqliteTraceStore(ctx.db) }), version: '0', configVersion: () => 1 };
  const app = await buildApi(deps);
  await authorize(app, deps, 'operate');
  try {
    await fn({ inject: app.inject.bind(app), id, store, db: ctx.db, ops: deps.ops('test') });
  } finally {
    await app.close();
    ctx.close();
    rmSync(join(data, '..'), { recursive: true, force: true });
  }
}

test('list, show (preview and attachments, nothing rendered), export; bad input 422, unknown id 404', async () => {
  await withApi(async ({ inject, id }) => {
    const list = await inject({ method: 'GET', url: '/api/v1/quarantine?reason=dmarc' });
    assert.equal(list.statusCode, 200, list.body);
    const items = list.json() as Array<{ id: string; reason: { kind: string }; recipients: string[] }>;
    assert.deepEqual(items.map((i) => [i.id, i.reason.kind, i.recipients]), [[id, 'dmarc', ['user@example.com']]]);
    assert.deepEqual((await inject({ method: 'GET', url: '/api/v1/quarantine?reason=rule' })).json(), []);
    assert.deepEqual((await inject({ method: 'GET', url: '/api/v1/quarantine?recipient=other@example.com' })).json(), []);
    const show = await inject({ method: 'GET', url: `/api/v1/quarantine/${id}` });
    assert.equal(show.statusCode, 200, show.body);
    const p = (show.json() as { preview: { text: string; textSource: string; attachments: unknown[]; headers: string } }).preview;
    assert.equal(p.textSource, 'text/html');
    assert.equal(p.text, 'Open the attached file & sign=');
    assert.deepEqual(p.attachments, [{ name: 'payslip.exe', type: 'application/octet-stream', size: 44 }]);
    assert.match(p.headers, /^From: "Payroll" <payroll@shop\.test>/);
    const eml = await inject({ method: 'GET', url: `/api/v1/quarantine/${id}/export` });
    assert.equal(eml.statusCode, 200);
    assert.equal(eml.headers['content-type'], 'message/rfc822');
    assert.equal(eml.body, `Received: test\r\n${MIME}`);
    const bad = await inject({ method: 'GET', url: '/api/v1/quarantine?reason=whatever' });
    assert.ok(bad.statusCode === 400 || bad.statusCode === 422, String(bad.statusCode));
    assert.match(bad.headers['content-type'] as string, /^application\/problem\+json/);
    const none = await inject({ method: 'GET', url: '/api/v1/quarantine/NOPE' });
    assert.equal(none.statusCode, 404);
    assert.equal((none.json() as { detail: string }).detail, 'no quarantined message NOPE');
  });
});

test('two releases at once: one 200, one 409; the message is queued once and one RELEASE is traced', async () => {
  await withApi(async ({ inject, id, store, db }) => {
    const [a, b] = await Promise.all([
      inject({ method: 'POST', url: `/api/v1/quarantine/${id}/release`, payload: { why: 'checked' } }),
      inject({ method: 'POST', url: `/api/v1/quarantine/${id}/release`, payload: { why: 'checked too' } }),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 409]);
    assert.equal(store.get(id)?.state, 'incoming');
    const releases = getTrace(db, id)?.events.filter((e) => e.event === 'RELEASE') ?? [];
    assert.equal(releases.length, 1);
    assert.match(releases[0]?.detail ?? '', /^released by test-operate-\w+: checked( too)?$/);
    const extra = await inject({ method: 'POST', url: `/api/v1/quarantine/${id}/release`, payload: { to: ['x'] } });
    assert.ok(extra.statusCode === 400 || extra.statusCode === 422, `${extra.statusCode} ${extra.body}`);
  });
});

test('delete: 204, then gone (404), a tombstone in its place, traced', async () => {
  await withApi(async ({ inject, id, store, db }) => {
    const d = await inject({ method: 'DELETE', url: `/api/v1/quarantine/${id}?why=phish` });
    assert.equal(d.statusCode, 204, d.body);
    assert.equal((await inject({ method: 'GET', url: `/api/v1/quarantine/${id}` })).statusCode, 404);
    assert.equal(store.get(id), undefined);
    assert.equal(store.isDeleted(id), true);
    assert.match(getTrace(db, id)?.events.find((e) => e.event === 'DELETE')?.detail ?? '', /phish/);
  });
});

test('release requests: listed with their approvers, denied once (then 409), unknown 404', async () => {
  await withApi(async ({ inject, id, ops }) => {
    const link = requestLink(ops, 'http://127.0.0.1:8025', id, 'user@example.com', Date.now());
    const made = requestRelease(ops, link.slice(link.lastIndexOf('/') + 1));
    const list = await inject({ method: 'GET', url: '/api/v1/quarantine/requests' });
    assert.equal(list.statusCode, 200, list.body);
    const rows = list.json() as { id: string; queueId: string; rcpt: string; state: string; requestedAt: number; decidedBy: string | null; approvers: string[] }[];
    assert.deepEqual(rows.map((r) => [r.id, r.queueId, r.rcpt, r.state, r.decidedBy]), [[made.id, id, 'user@example.com', 'pending', null]]);
    assert.deepEqual(rows[0]?.approvers, [], 'every field arrives through the response schema');
    assert.equal(typeof rows[0]?.requestedAt, 'number');
    const deny = await inject({ method: 'POST', url: `/api/v1/quarantine/requests/${made.id}/deny` });
    assert.equal(deny.statusCode, 200, deny.body);
    const denied = deny.json() as { state: string; decidedBy: string; decidedAt: number };
    assert.equal(denied.state, 'denied');
    assert.match(denied.decidedBy, /^test-operate-/);
    assert.equal(typeof denied.decidedAt, 'number');
    assert.equal((await inject({ method: 'POST', url: `/api/v1/quarantine/requests/${made.id}/deny` })).statusCode, 409);
    assert.equal((await inject({ method: 'POST', url: `/api/v1/quarantine/requests/${made.id}/approve`, payload: {} })).statusCode, 409);
    assert.equal((await inject({ method: 'POST', url: '/api/v1/quarantine/requests/nope/deny' })).statusCode, 404);
  });
});
