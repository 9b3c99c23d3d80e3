import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../core/log.ts';
import Fastify from 'fastify';
import { OpsError } from '../ops/errors.ts';
import { problemHandler } from './problem.ts';
import { buildApi } from './build.ts';
import type { ApiDeps } from './deps.ts';

const deps: ApiDeps = {
  logger: silentLogger,
  ops: () => {
    throw new OpsError('unavailable', 'no store in this test');
  },
  version: '9.9.9',
  configVersion: () => 7,
};

test('health answers with the release and configuration versions', async () => {
  const app = await buildApi(deps);
  try {
    const r = await app.inject({ method: 'GET', url: '/api/v1/health' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { status: 'ok', version: '9.9.9', configVersion: 7 });
  } finally {
    await app.close();
  }
});

test('an unknown route is an RFC 9457 problem document', async () => {
  const app = await buildApi(deps);
  try {
    const r = await app.inject({ method: 'GET', url: '/api/v1/nothing?x=<b>' });
    assert.equal(r.statusCode, 404);
    assert.match(r.headers['content-type'] as string, /^application\/problem\+json/);
    const p = r.json() as Record<string, unknown>;
    assert.equal(p.status, 404);
    assert.equal(p.title, 'Not Found');
    assert.equal(p.detail, 'no route GET /api/v1/nothing');
  } finally {
    await app.close();
  }
});

test('an OpsError leaves with the status of its kind and the message the CLI prints; a crash says nothing inside', async () => {
  const app = Fastify();
  app.setErrorHandler(problemHandler);
  app.get('/missing', async () => {
    throw new OpsError('not-found', 'no queue entry 42');
  });
  app.get('/crash', async () => {
    throw new Error('secret internals');
  });
  try {
    const r = await app.inject({ method: 'GET', url: '/missing' });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json(), { type: 'about:blank', title: 'Not Found', status: 404, detail: 'no queue entry 42', instance: '/missing' });
    const c = await app.inject({ method: 'GET', url: '/crash' });
    assert.equal(c.statusCode, 500);
    assert.doesNotMatch(c.body, /secret/);
  } finally {
    await app.close();
  }
});
