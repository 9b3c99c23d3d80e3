/**
 * The admin API's queue, trace and report routes with `inject()` over a real data directory
 * (SQLite store, spool): each route's declared scope, the actor it acts as, the happy path, the
 * CLI's message in a 404/409 problem, bad queries as 400/422 problems, and CSV escaping.
 */
import { sqliteStore } from '../helpers/stored-config.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { silentLogger } from '../../src/core/log.ts';
import { newQueueId } from '../../src/core/ids.ts';
import { openContext, type CliContext } from '../../src/cli/context.ts';
import { buildApi } from '../../src/api/build.ts';
import type { ApiDeps } from '../../src/api/deps.ts';
import { problemHandler } from '../../src/api/problem.ts';
import { queueRoutes } from '../../src/api/routes/queue.ts';
import { traceRoutes } from '../../src/api/routes/trace.ts';
import { reportRoutes } from '../../src/api/routes/reports.ts';
import type { Scope } from '../../src/api/scope.ts';
import { QueueStore } from '../../src/queue/index.ts';
import { addRow } from '../../src/trace/reports/test-rows.ts';
import { ensureTraceSchema } from '../../src/trace/index.ts';
import { removeDir, tempDir } from '../helpers/gateway.ts';
import { authorize } from '../helpers/api.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';

let data: string;
let ctx: CliContext;
const actors: string[] = [];
let deps: ApiDeps;
let app: FastifyInstance;

before(async () => {
  data = tempDir();
  ctx = openContext({ data, create: true });
  ensureTraceSchema(ctx.db);
  deps = {
    logger: silentLogger,
    ops: (actor) => {
      actors.push(actor);
      return { db: ctx.db, store: ctx.store, dataDir: ctx.dataDir, actor, trace: sqliteTraceStore(ctx.db) };
    },
    version: '0.0.0-test',
    configVersion: () => sqliteStore(ctx.store).currentVersionNow(),
  };
  app = await buildApi(deps);
  await authorize(app, deps);
});
after(async () => {
  await app.close();
  ctx.close();
  removeDir(data);
});

function queued(state: 'incoming' | 'deferred' | 'active' | 'hold'): string {
  const id = newQueueId();
  const store = new QueueStore(ctx.db);
  const meta = { id, size: 5, receivedAt: Date.now(), envelope: { mailFrom: 's@example.com', rcptTo: ['r@example.com'] }, prependHeaders: '', facts: {}, disposition: 'deliver' as const };
  store.insert(meta, state === 'hold' ? 'hold' : 'deliver', state === 'active' || state === 'deferred');
  if (state === 'deferred') store.setState(id, 'deferred', { nextAttempt: Date.now() + 3_600_000 });
  return id;
}

function problemOf(r: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number): { detail?: string } {
  assert.equal(r.statusCode, status);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  return r.json() as { detail?: string };
}

test('every route declares its scope, and handlers act as the request\'s actor', async () => {
  const seen = new Map<string, Scope | undefined>();
  const bare = Fastify();
  bare.setErrorHandler(problemHandler);
  bare.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') seen.set(`${m} ${r.url}`, r.config?.scope);
  });
  // The auth hook (not built here) sets the actor; stand in for it with a fixed token name.
  bare.addHook('onRequest', async (req) => {
    req.actor = 'ops-token';
  });
  queueRoutes(bare, deps);
  traceRoutes(bare, deps);
  reportRoutes(bare, deps);
  await bare.ready();
  assert.deepEqual(Object.fromEntries([...seen].sort()), {
    'DELETE /api/v1/queue/:id': 'operate',
    'GET /api/v1/queue': 'read',
    'GET /api/v1/queue/:id': 'read',
    'GET /api/v1/reports/direct-send': 'read',
    'GET /api/v1/reports/egress-gone': 'read',
    'GET /api/v1/reports/hunts': 'read',
    'GET /api/v1/reports/hunts/:name': 'read',
    'GET /api/v1/reports/inbound': 'read',
    'GET /api/v1/reports/stale-allow': 'read',
    'GET /api/v1/trace': 'read',
    'GET /api/v1/trace/:id': 'read',
    'POST /api/v1/queue/:id/hold': 'operate',
    'POST /api/v1/queue/:id/release': 'operate',
    'POST /api/v1/queue/flush': 'operate',
    'POST /api/v1/reports/hunts': 'admin',
  });
  for (const route of seen.keys()) {
    const [method, url] = route.split(' ') as [string, string];
    assert.ok(app.hasRoute({ method: method as 'GET', url }), `buildApi serves ${route}`);
  }
  const id = queued('deferred');
  for (const [method, url] of [['POST', `/api/v1/queue/${id}/hold`], ['GET', '/api/v1/trace?since=1d'], ['GET', '/api/v1/reports/inbound'], ['GET', '/api/v1/reports/hunts/no-connector-dmarc-fail']] as const) {
    actors.length = 0;
    const r = await bare.inject({ method, url });
    assert.ok(r.statusCode < 500, `${url}: ${r.body}`);
    assert.ok(actors.length > 0 && actors.every((a) => a === 'ops-token'), `${url} acted as ${actors.join(',') || 'nobody'}`);
  }
  await bare.close();
});

test('queue: list, show, hold, release, flush and delete with the CLI\'s state rules', async () => {
  const id = queued('deferred');
  const list = await app.inject({ method: 'GET', url: '/api/v1/queue?state=deferred' });
  assert.equal(list.statusCode, 200);
  const rows = list.json() as { id: string; state: string; from: string }[];
  assert.ok(rows.some((x) => x.id === id && x.state === 'deferred' && x.from === 's@example.com'));
  const show = await app.inject({ method: 'GET', url: `/api/v1/queue/${id}` });
  assert.deepEqual((show.json() as { recipients: unknown }).recipients, [{ rcpt: 'r@example.com', status: 'pending', lastReply: null }]);
  // Every field arrives through the response schema (fastify drops what a schema does not list).
  assert.deepEqual(Object.keys(show.json() as object).sort(), ['attempts', 'from', 'id', 'lastError', 'nextAttempt', 'received', 'recipients', 'size', 'state']);

  const rel = await app.inject({ method: 'POST', url: `/api/v1/queue/${id}/release` });
  assert.equal(problemOf(rel, 409).detail, `${id} is not on hold (it is deferred)`);
  const flush = await app.inject({ method: 'POST', url: '/api/v1/queue/flush' });
  assert.ok((flush.json() as { due: number }).due >= 1);
  const held = await app.inject({ method: 'POST', url: `/api/v1/queue/${id}/hold` });
  assert.equal((held.json() as { state: string }).state, 'hold');
  assert.equal(problemOf(await app.inject({ method: 'POST', url: `/api/v1/queue/${id}/hold` }), 409).detail, `${id} is already on hold`);
  const released = await app.inject({ method: 'POST', url: `/api/v1/queue/${id}/release` });
  assert.equal((released.json() as { state: string }).state, 'incoming');

  const busy = queued('active');
  assert.equal(problemOf(await app.inject({ method: 'DELETE', url: `/api/v1/queue/${busy}` }), 409).detail, `${busy} is being delivered right now; hold it first or retry`);
  assert.equal(new QueueStore(ctx.db).get(busy)?.state, 'active', 'a refused delete changes nothing');

  mkdirSync(join(data, 'spool', 'msg'), { recursive: true });
  const file = new (await import('../../src/queue/index.ts')).Spool(join(data, 'spool')).msgPath(id);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, 'x');
  const del = await app.inject({ method: 'DELETE', url: `/api/v1/queue/${id}` });
  assert.equal(del.statusCode, 204);
  assert.equal(existsSync(file), false, 'the spool file is gone');
  assert.equal(problemOf(await app.inject({ method: 'GET', url: `/api/v1/queue/${id}` }), 404).detail, `no queued message ${id}`);
});

test('queue: a bad query is a 400 problem naming the parameter', async () => {
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/queue?state=lost' }), 400).detail ?? '', /state/);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/queue?limit=0' }), 400).detail ?? '', /limit/);
});

test('trace: search with filters and show with events; unknown id 404, bad window 422, bad filter 400', async () => {
  const id = addRow(ctx.db, { subject: '=HYPERLINK("http://evil")', mailFrom: 'scanner@example.com', clientIp: '192.0.2.7' });
  const r = await app.inject({ method: 'GET', url: '/api/v1/trace?since=1d&sender=scanner&clientIp=192.0.2.0/24' });
  assert.equal(r.statusCode, 200);
  const found = r.json() as { id: string; subject: string }[];
  assert.deepEqual(found.map((m) => m.id), [id]);
  assert.equal(found[0]?.subject, '=HYPERLINK("http://evil")', 'JSON carries the text as it is');
  const show = await app.inject({ method: 'GET', url: `/api/v1/trace/${id}` });
  const shown = show.json() as { message: { id: string; mailFrom: string; clientIp: string; receivedAt: number }; events: unknown[] };
  assert.equal(shown.message.id, id);
  assert.equal(shown.message.mailFrom, 'scanner@example.com', 'open fields arrive through the response schema');
  assert.equal(shown.message.clientIp, '192.0.2.7');
  assert.equal(typeof shown.message.receivedAt, 'number');
  assert.ok(Array.isArray(shown.events));
  assert.equal(problemOf(await app.inject({ method: 'GET', url: '/api/v1/trace/NOPE123' }), 404).detail, 'no trace for NOPE123');
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/trace?since=yesterdayish' }), 422).detail ?? '', /yesterdayish/);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/trace?clientIp=999.1.1.1' }), 422).detail ?? '', /client-ip/);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/trace?status=Lost' }), 400).detail ?? '', /status/);
});

test('reports: JSON by default (the CLI\'s document), CSV with formula injection escaped, bad input as problems', async () => {
  addRow(ctx.db, { connector: '=cmd|calc', attribution: 'connector', mailFrom: 'app@example.com' });
  const j = await app.inject({ method: 'GET', url: '/api/v1/reports/inbound?since=7d' });
  assert.equal(j.statusCode, 200);
  const doc = j.json() as { title: string; window: { since: string }; summary: string[] };
  assert.match(doc.title, /Inbound/i);
  assert.ok(Array.isArray(doc.summary));
  assert.match(doc.window.since, /^\d{4}-\d{2}-\d{2}T/);
  // The sections (open rows) arrive through the response schema, the JSON text as it is.
  const sections = Object.entries(doc).filter(([k, v]) => k !== 'summary' && Array.isArray(v));
  assert.ok(sections.length > 0);
  assert.ok(JSON.stringify(sections).includes('=cmd|calc'));
  const c = await app.inject({ method: 'GET', url: '/api/v1/reports/inbound?since=7d&format=csv' });
  assert.equal(c.statusCode, 200);
  assert.match(String(c.headers['content-type']), /^text\/csv/);
  assert.match(c.body, /\r\n/);
  assert.match(c.body, /'=cmd\|calc/, 'a formula cell gets a leading quote');
  assert.doesNotMatch(c.body, /(^|,)=cmd/m);

  const ds = await app.inject({ method: 'GET', url: '/api/v1/reports/direct-send?since=7d&spf=' + encodeURIComponent('v=spf1 ip4:192.0.2.0/24 -all') });
  assert.equal(ds.statusCode, 200, ds.body);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/reports/direct-send?spf=nonsense' }), 422).detail ?? '', /v=spf1/);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/reports/direct-send?internal=10.0.0.0/8,banana' }), 400).detail ?? '', /banana/);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/reports/inbound?source=somewhere' }), 422).detail ?? '', /--source must be gateway or import:NAME/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/reports/stale-allow?all=true' })).statusCode, 200);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/reports/egress-gone?blockDate=soon' }), 422).detail ?? '', /--block-date/);
  const blockDate = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
  const gone = await app.inject({ method: 'GET', url: `/api/v1/reports/egress-gone?blockDate=${blockDate}&since=30d` });
  assert.equal(gone.statusCode, 200, gone.body);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/reports/inbound?format=xlsx' }), 400).detail ?? '', /format/);
});

test('hunts: saved ones listed and run (JSON or CSV), an unknown one 404, ad-hoc SQL checked', async () => {
  const list = (await app.inject({ method: 'GET', url: '/api/v1/reports/hunts' })).json() as { name: string }[];
  assert.ok(list.length > 0);
  const name = list[0]!.name;
  const run = await app.inject({ method: 'GET', url: `/api/v1/reports/hunts/${name}?limit=5` });
  assert.equal(run.statusCode, 200, run.body);
  assert.ok(Array.isArray((run.json() as { columns: unknown }).columns));
  const csv = await app.inject({ method: 'GET', url: `/api/v1/reports/hunts/${name}?format=csv` });
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.match(problemOf(await app.inject({ method: 'GET', url: '/api/v1/reports/hunts/nope' }), 404).detail ?? '', /no saved hunt "nope"/);
  const adhoc = await app.inject({ method: 'POST', url: '/api/v1/reports/hunts', payload: { query: 'SELECT count(*) AS n FROM trace_message' } });
  assert.equal(adhoc.statusCode, 200, adhoc.body);
  const adhocDoc = adhoc.json() as { rows: { n: number }[]; columns: string[]; truncated: boolean; ms: number };
  assert.ok((adhocDoc.rows[0]?.n ?? 0) >= 1);
  assert.deepEqual(adhocDoc.columns, ['n']);
  assert.equal(adhocDoc.truncated, false);
  const write = await app.inject({ method: 'POST', url: '/api/v1/reports/hunts', payload: { query: 'DELETE FROM trace_message' } });
  assert.equal(write.statusCode, 422);
});
