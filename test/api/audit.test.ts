/**
 * The admin API's audit routes with `inject()` over a real data directory: an export uploaded as
 * a stream (CSV and JSON bodies), its summary and data set, the upload limit (413), an unknown
 * shape (422 with the CLI's message), removal (404 for an unknown import), and the plan as JSON,
 * Markdown and the PowerShell script. DNS points at a closed loopback port: nothing leaves the host.
 */
import { sqliteStore } from '../helpers/stored-config.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { silentLogger } from '../../src/core/log.ts';
import { openContext, type CliContext } from '../../src/cli/context.ts';
import { buildApi } from '../../src/api/build.ts';
import type { ApiDeps } from '../../src/api/deps.ts';
import { auditRoutes } from '../../src/api/routes/audit.ts';
import type { Scope } from '../../src/api/scope.ts';
import { encode, emailEventsJsonArray, messageTraceText } from '../audit/fixtures.ts';
import { freePort, removeDir, tempDir } from '../helpers/gateway.ts';
import { authorize } from '../helpers/api.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';

let data: string;
let ctx: CliContext;
let app: FastifyInstance;
const LIMIT = 64 * 1024;
const SPF = 'v=spf1 ip4:203.0.113.0/26 -all';

before(async () => {
  data = tempDir();
  ctx = openContext({ data, create: true });
  const closed = await freePort();
  await ctx.store.update('test', 'dns on a closed loopback port', (draft) => {
    draft.dns.servers = [`127.0.0.1:${closed}`];
    draft.dns.timeoutMs = 200;
    draft.dns.tries = 1;
  });
  const deps: ApiDeps = {
    logger: silentLogger,
    ops: (actor) => ({ db: ctx.db, store: ctx.store, dataDir: ctx.dataDir, actor, trace: sqliteTraceStore(ctx.db) }),
    version: '0.0.0-test',
    configVersion: () => sqliteStore(ctx.store).currentVersionNow(),
    auditUploadLimit: LIMIT,
  };
  app = await buildApi(deps);
  await authorize(app, deps);
});
after(async () => {
  await app.close();
  ctx.close();
  removeDir(data);
});

function problemOf(r: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number): { detail?: string } {
  assert.equal(r.statusCode, status);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  return r.json() as { detail?: string };
}

test('audit routes declare their scopes', async () => {
  const seen = new Map<string, Scope | undefined>();
  const bare = Fastify();
  bare.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') seen.set(`${m} ${r.url}`, r.config?.scope);
  });
  const actors: string[] = [];
  bare.addHook('onRequest', async (req) => {
    req.actor = 'audit-token'; // as the auth hook (not built here) sets it
  });
  await auditRoutes(bare, { logger: silentLogger, ops: (actor) => (actors.push(actor), { db: ctx.db, store: ctx.store, dataDir: ctx.dataDir, actor, trace: sqliteTraceStore(ctx.db) }), version: '0', configVersion: () => 1 });
  await bare.ready();
  assert.equal((await bare.inject({ method: 'GET', url: '/api/v1/audit/imports' })).statusCode, 200);
  assert.deepEqual(actors, ['audit-token']);
  assert.deepEqual(Object.fromEntries([...seen].sort()), {
    'DELETE /api/v1/audit/imports/:name': 'admin',
    'GET /api/v1/audit/imports': 'read',
    'GET /api/v1/audit/plan': 'read',
    'POST /api/v1/audit/imports': 'admin',
  });
  await bare.close();
});

test('an export uploaded as a stream is imported under its name; the temp file is gone', async () => {
  const now = Date.now();
  // A UTF-16 export (as Export-Csv writes it) sent in small chunks, as a network would.
  const bytes: Buffer = encode(messageTraceText(now), 'utf16le-bom');
  const ambiguous = await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=tenant1&file=trace.csv', headers: { 'content-type': 'text/csv' }, payload: bytes });
  assert.match(problemOf(ambiguous, 422).detail ?? '', /^trace\.csv: the date format is ambiguous/, 'the importer\'s refusal, named by the upload');
  const chunks = Array.from({ length: Math.ceil(bytes.length / 512) }, (_, i) => bytes.subarray(i * 512, (i + 1) * 512));
  const r = await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=tenant1&file=trace.csv&tenantDomains=contoso.com&dateFormat=mdy', headers: { 'content-type': 'text/csv' }, payload: Readable.from(chunks) });
  assert.equal(r.statusCode, 201, r.body);
  const s = r.json() as { source: string; files: { file: string; rows: number; inserted: number }[]; tenantDomains: string[] };
  assert.equal(s.source, 'import:tenant1');
  assert.equal(s.files[0]?.file, 'trace.csv', 'named as uploaded, not by the temp path');
  assert.equal(s.files[0]?.rows, 5);
  assert.deepEqual(s.tenantDomains, ['contoso.com']);
  assert.equal((r.json() as { dataset: { source: string } }).dataset.source, 'import:tenant1');
  assert.deepEqual(existsSync(join(data, 'uploads')) ? readdirSync(join(data, 'uploads')) : [], [], 'no upload left behind');

  const json = await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=events', headers: { 'content-type': 'application/json' }, payload: emailEventsJsonArray(now) });
  assert.equal(json.statusCode, 201, json.body);
  const list = (await app.inject({ method: 'GET', url: '/api/v1/audit/imports' })).json() as { name: string; rows: number }[];
  assert.deepEqual(list.map((d) => d.name).sort(), ['events', 'tenant1']);
});

test('uploads: too large is 413, an unknown shape 422 with the importer\'s message, other types 415, a bad name 400', async () => {
  const big = Buffer.alloc(LIMIT + 1, 0x41);
  problemOf(await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=big', headers: { 'content-type': 'application/octet-stream' }, payload: big }), 413);
  // Without a length the limit is enforced while streaming.
  problemOf(await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=big', headers: { 'content-type': 'application/octet-stream' }, payload: Readable.from([big.subarray(0, LIMIT), big.subarray(LIMIT)]) }), 413);
  const dots = await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=dots&file=..', headers: { 'content-type': 'text/csv' }, payload: 'a,b\r\n' });
  assert.match(problemOf(dots, 422).detail ?? '', /^upload: /, 'a file name of dots names no directory');
  const odd = problemOf(await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=odd&file=odd.csv', headers: { 'content-type': 'text/csv' }, payload: 'a,b,c\r\n1,2,3\r\n' }), 422);
  assert.match(odd.detail ?? '', /^odd\.csv: /);
  problemOf(await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=x', headers: { 'content-type': 'text/html' }, payload: '<p>' }), 415);
  assert.match(problemOf(await app.inject({ method: 'POST', url: '/api/v1/audit/imports?name=../x', headers: { 'content-type': 'text/csv' }, payload: 'a' }), 400).detail ?? '', /name/);
  assert.deepEqual(existsSync(join(data, 'uploads')) ? readdirSync(join(data, 'uploads')) : [], []);
});

test('the plan: JSON by default, Markdown and the PowerShell script; bad input 422; remove an import, then 404', async () => {
  const plan = await app.inject({ method: 'GET', url: `/api/v1/audit/plan?source=import:tenant1&spf=${encodeURIComponent(SPF)}` });
  assert.equal(plan.statusCode, 200, plan.body);
  const p = plan.json() as { tenantDomains: string[]; sources: unknown[]; stages: unknown[] };
  assert.deepEqual(p.tenantDomains, ['contoso.com']);
  assert.ok(p.sources.length > 0 && p.stages.length > 0);
  for (const k of ['generatedAt', 'window', 'data', 'spfRecords', 'inbound', 'authorisedIps', 'refused', 'kql', 'notes']) assert.ok(k in p, `${k} arrives through the response schema`);
  const md = await app.inject({ method: 'GET', url: `/api/v1/audit/plan?source=import:tenant1&format=md&spf=${encodeURIComponent(SPF)}` });
  assert.match(String(md.headers['content-type']), /^text\/markdown/);
  assert.match(md.body, /contoso\.com/);
  const ps1 = await app.inject({ method: 'GET', url: `/api/v1/audit/plan?source=import:tenant1&format=ps1&spf=${encodeURIComponent(SPF)}` });
  assert.match(String(ps1.headers['content-disposition']), /direct-send-plan\.ps1/);
  assert.match(ps1.body, /Set-|New-/);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/audit/plan?spf=nonsense' }), 422).detail ?? '', /v=spf1/);
  problemOf(await app.inject({ method: 'GET', url: '/api/v1/audit/plan?format=docx' }), 400);

  const gone = await app.inject({ method: 'DELETE', url: '/api/v1/audit/imports/events' });
  assert.equal(gone.statusCode, 200, gone.body);
  assert.ok((gone.json() as { messages: number }).messages > 0);
  assert.equal(problemOf(await app.inject({ method: 'DELETE', url: '/api/v1/audit/imports/events' }), 404).detail, 'no import named "events" (imports: tenant1)');
});
