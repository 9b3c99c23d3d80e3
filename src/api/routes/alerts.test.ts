import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/log.ts';
import { openDatabase } from '../../core/sqlite.ts';
import { SqliteConfigStore } from '../../stores/sqlite/config-store.ts';
import { SqliteAlertStore } from '../../stores/sqlite/alert-store.ts';
import { buildApi } from '../build.ts';
import { authorize } from '../../../test/helpers/api.ts';
import { sqliteTraceStore } from '../../stores/sqlite/trace-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-api-alerts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('alerts: listed (open by default), acknowledged once with the caller as actor, 404 and 409 problems', async () => {
  const db = openDatabase(join(dir, 'mailgate.db'));
  const store = new SqliteConfigStore(db);
  const alerts = new SqliteAlertStore(db);
  const id = (await alerts.raise({ kind: 'new-source', key: 'ip:198.51.100.7', summary: 'new Direct Send source 198.51.100.7', detail: { ip: '198.51.100.7' } }, Date.now()))?.id;
  const deps = { logger: silentLogger, ops: (actor: string) => ({ db, store, dataDir: dir, actor, alerts, trace: sqliteTraceStore(db) }), version: '0', configVersion: () => 1 };
  const app = await buildApi(deps);
  await authorize(app, deps, 'operate');
  try {
    const list = await app.inject({ method: 'GET', url: '/api/v1/alerts' });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(list.json().map((a: { id: number; kind: string }) => [a.id, a.kind]), [[id, 'new-source']]);
    const ack = await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/ack` });
    assert.equal(ack.statusCode, 200, ack.body);
    assert.equal(ack.json().state, 'acked');
    assert.match(ack.json().ackedBy, /^test-operate-/); // the token's name
    assert.deepEqual(ack.json().detail, { ip: '198.51.100.7' }, 'the open detail arrives through the response schema');
    assert.match(ack.json().ackedAt, /^\d{4}-/);
    assert.equal(ack.json().notifiedAt, null);
    assert.equal((await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/ack` })).statusCode, 409);
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/alerts/999/ack' })).statusCode, 404);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/v1/alerts' })).json(), []);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts?state=all' })).json().length, 1);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts?state=bogus' })).statusCode, 400);
  } finally {
    await app.close();
    db.close();
  }
});
