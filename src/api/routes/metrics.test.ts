import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../core/log.ts';
import { OpsError } from '../../ops/errors.ts';
import { GatewayMetrics, EXPOSITION_CONTENT_TYPE, mergedExposition } from '../../metrics/index.ts';
import { buildApi } from '../build.ts';
import type { ApiDeps } from '../deps.ts';

const base: ApiDeps = {
  logger: silentLogger,
  ops: () => {
    throw new OpsError('unavailable', 'no store in this test');
  },
  version: '9.9.9',
  configVersion: () => 7,
};

test('GET /metrics answers the exposition in text format 0.0.4', async () => {
  const m = new GatewayMetrics();
  m.connection('mx', 'accepted');
  const app = await buildApi({ ...base, metrics: { scrape: () => mergedExposition(m.registry, [], 0), contentType: EXPOSITION_CONTENT_TYPE, scope: 'public' } });
  try {
    const r = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(r.body, /^mailgate_connections_total\{listener="mx",outcome="accepted"\} 1$/m);
  } finally {
    await app.close();
  }
});

test('without a scrape (not the queue owner) it is a 503 problem', async () => {
  const app = await buildApi(base);
  try {
    const r = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().detail, 'metrics are not collected in this process');
  } finally {
    await app.close();
  }
});
