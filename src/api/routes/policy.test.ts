/**
 * @module api/routes/policy.test
 * POST /api/v1/policy/test and /replay, and the /api/v1/rules routes, through inject() over a real
 * SQLite data dir: the happy path (same verdict and reply line as the CLI), refusals as problems
 * with the CLI's message, and the scope each route declares.
 * Touches: a temp dir (SQLite).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { silentLogger } from '../../core/log.ts';
import { openDatabase } from '../../core/sqlite.ts';
import { validateConfig } from '../../config/index.ts';
import { SqliteConfigStore } from '../../stores/sqlite/config-store.ts';
import { formatReply } from '../../smtp/replies.ts';
import { buildApi } from '../build.ts';
import type { ApiDeps } from '../deps.ts';
import { policyRoutes } from './policy.ts';
import { ruleRoutes } from './rules.ts';
import { authorize } from '../../../test/helpers/api.ts';
import { sqliteTraceStore } from '../../stores/sqlite/trace-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-api-policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = openDatabase(join(dir, 'mailgate.db'));
after(() => db.close());
const store = new SqliteConfigStore(db);
store.saveNow(validateConfig({ acceptedDomains: [{ domainName: 'contoso.com' }], receiveConnectors: [{ name: 'mx', port: 2525, role: 'mx' }] }), 'test');
const deps: ApiDeps = { logger: silentLogger, ops: (actor) => ({ db, store, dataDir: dir, actor, trace: sqliteTraceStore(db) }), version: '0', configVersion: () => 1, replyText: (k, v) => formatReply(k, v) };
// Stated results: no DNS.
const stated = { spf: 'none', dkim: 'none', dmarc: 'none', dmarcPolicy: 'none' };

test('policy test: the stages and the verdict; a candidate config with RejectDirectSend refuses at RCPT with 5.7.68', async () => {
  const app = await buildApi(deps);
  await authorize(app, deps);
  try {
    const ok = await app.inject({ method: 'POST', url: '/api/v1/policy/test', payload: { ip: '203.0.113.9', from: 'printer@contoso.com', to: ['x@contoso.com'], ...stated } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().verdict, 'ACCEPTED');
    assert.equal(ok.json().outcome, 'accept', 'every field arrives through the response schema');
    assert.equal(typeof ok.json().listener, 'string');
    assert.deepEqual(ok.json().stages.map((s: { stage: string; action: string }) => `${s.stage}:${s.action}`), ['connect:continue', 'mail:continue', 'rcpt:continue', 'eod:continue']);
    assert.equal(ok.json().stages[2].attribution.kind, 'direct-send');
    const candidate = JSON.stringify({ organization: { rejectDirectSend: true }, acceptedDomains: [{ domainName: 'contoso.com' }], receiveConnectors: [{ name: 'mx', port: 2525 }] });
    const no = await app.inject({ method: 'POST', url: '/api/v1/policy/test', payload: { ip: '203.0.113.9', from: 'printer@contoso.com', to: ['x@contoso.com'], config: candidate, ...stated } });
    assert.equal(no.statusCode, 200, no.body);
    assert.equal(no.json().verdict, 'REJECTED');
    assert.match(no.json().stages[2].reply, /^550 5\.7\.68 /);
  } finally {
    await app.close();
  }
});

test('policy test and replay refusals are problems with the CLI message', async () => {
  const app = await buildApi(deps);
  await authorize(app, deps);
  try {
    const r = await app.inject({ method: 'POST', url: '/api/v1/policy/test', payload: { ip: '203.0.113.9', from: 'a@b.example', to: ['x@contoso.com'], listener: 'nope', ...stated } });
    assert.equal(r.statusCode, 422, r.body);
    assert.equal(r.json().detail, 'no receive connector named nope (have: mx)');
    const bad = await app.inject({ method: 'POST', url: '/api/v1/policy/test', payload: { ip: '203.0.113.9', from: 'a@b.example' } });
    assert.equal(bad.statusCode, 400, bad.body);
    const set = await app.inject({ method: 'POST', url: '/api/v1/policy/replay', payload: { set: ['org.rejectDirectSnd=true'] } });
    assert.equal(set.statusCode, 422, set.body);
    assert.match(set.json().detail, /^--set org\.rejectDirectSnd=true: organization\.rejectDirectSnd: unknown setting/);
    const rep = await app.inject({ method: 'POST', url: '/api/v1/policy/replay', payload: { since: '7d', set: ['org.rejectDirectSend=true'] } });
    assert.equal(rep.statusCode, 200, rep.body);
    assert.match(rep.json().summary[0], /^replayed 0 transactions: 0 newly rejected/);
    assert.equal(rep.json().replayed, 0);
    assert.ok(Array.isArray(rep.json().sections));
    assert.equal(typeof rep.json().window.since, 'number');
  } finally {
    await app.close();
  }
});

test('rules: template add (201), list, show, set, disable, lint, test, replay, remove; unknown name 404, duplicate 409', async () => {
  const app = await buildApi(deps);
  await authorize(app, deps);
  try {
    const add = await app.inject({ method: 'POST', url: '/api/v1/rules', payload: { template: 'direct-send-quarantine', exceptIps: ['192.0.2.10'] } });
    assert.equal(add.statusCode, 201, add.body);
    assert.equal(add.json().rule.name, 'Direct Send quarantine');
    const dup = await app.inject({ method: 'POST', url: '/api/v1/rules', payload: { template: 'direct-send-quarantine' } });
    assert.equal(dup.statusCode, 409, dup.body);
    assert.equal(dup.json().detail, 'a transport rule named "Direct Send quarantine" exists');
    const list = await app.inject({ method: 'GET', url: '/api/v1/rules' });
    assert.deepEqual(list.json().map((r: { name: string; mode: string }) => [r.name, r.mode]), [['Direct Send quarantine', 'Audit']]);
    const name = encodeURIComponent('Direct Send quarantine');
    assert.equal((await app.inject({ method: 'GET', url: `/api/v1/rules/${name}` })).json().actions.quarantine, true);
    const hit = await app.inject({ method: 'POST', url: '/api/v1/rules/test', payload: { clientIp: '203.0.113.9', mailFrom: 'printer@contoso.com', recipients: ['x@contoso.com'] } });
    assert.equal(hit.statusCode, 200, hit.body);
    assert.deepEqual(hit.json().hits.map((h: { rule: string; mode: string }) => [h.rule, h.mode]), [['Direct Send quarantine', 'Audit']]);
    const except = await app.inject({ method: 'POST', url: '/api/v1/rules/test', payload: { clientIp: '192.0.2.10', mailFrom: 'printer@contoso.com', recipients: ['x@contoso.com'] } });
    assert.deepEqual(except.json().hits, []);
    assert.equal((await app.inject({ method: 'PATCH', url: `/api/v1/rules/${name}`, payload: { mode: 'Enforce' } })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: `/api/v1/rules/${name}` })).json().mode, 'Enforce');
    assert.equal((await app.inject({ method: 'POST', url: `/api/v1/rules/${name}/disable` })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/rules' })).json()[0].state, 'Disabled');
    const lint = await app.inject({ method: 'GET', url: '/api/v1/rules/lint' });
    assert.equal(lint.statusCode, 200, lint.body);
    assert.ok(Array.isArray(lint.json()));
    const rep = await app.inject({ method: 'POST', url: '/api/v1/rules/replay', payload: { since: '30d', asEnforce: true } });
    assert.equal(rep.statusCode, 200, rep.body);
    assert.equal(rep.json().messages, 0);
    const missing = await app.inject({ method: 'PATCH', url: '/api/v1/rules/nope', payload: { mode: 'Audit' } });
    assert.equal(missing.statusCode, 404, missing.body);
    assert.equal(missing.json().detail, 'no transport rule named "nope"');
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/rules/${name}` })).statusCode, 200);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/v1/rules' })).json(), []);
  } finally {
    await app.close();
  }
});

test('declared scopes: reads are read, rule changes are admin', async () => {
  const app = Fastify();
  const scopes: Record<string, unknown> = {};
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') scopes[`${m} ${r.url}`] = (r.config as { scope?: string } | undefined)?.scope;
  });
  policyRoutes(app, deps);
  ruleRoutes(app, deps);
  await app.ready();
  await app.close();
  assert.deepEqual(scopes, {
    'POST /api/v1/policy/test': 'read',
    'POST /api/v1/policy/replay': 'read',
    'GET /api/v1/rules': 'read',
    'GET /api/v1/rules/lint': 'read',
    'GET /api/v1/rules/hits': 'read',
    'GET /api/v1/rules/:name': 'read',
    'GET /api/v1/rules/:name/would-have': 'read',
    'POST /api/v1/rules': 'admin',
    'PATCH /api/v1/rules/:name': 'admin',
    'DELETE /api/v1/rules/:name': 'admin',
    'POST /api/v1/rules/:name/enable': 'admin',
    'POST /api/v1/rules/:name/disable': 'admin',
    'POST /api/v1/rules/test': 'read',
    'POST /api/v1/rules/replay': 'read',
  });
});
