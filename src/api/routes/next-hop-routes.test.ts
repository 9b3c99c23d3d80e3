/**
 * @module api/routes/next-hop-routes.test
 * Routes over the API as the token: add (with replace taking a pattern over), show with the
 * domains it wins for, change, refusals with the CLI's messages, secrets masked, remove; 401
 * without a token, 403 without admin.
 * Touches: a temporary data directory (test/helpers/api).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';

interface RouteDoc {
  name: string;
  type: string;
  domains: string[];
  host?: string;
  port: number;
  tls: string;
  pickupDir: string;
  oauth2?: { user: string; clientSecret?: string };
  serves?: { domain: string; route: string; wins: string }[];
}

test('next-hop routes: add, show, set, replace, remove; scopes and refusals', async () => {
  const f = await apiFixture();
  try {
    const add = { name: 'mailbox', type: 'smtp', domains: ['example.com'], host: 'mbx.example.com', port: 2525, tls: 'verify' };
    assert.equal((await f.call(undefined, { method: 'GET', url: '/api/v1/routes' })).statusCode, 401);
    assert.equal((await f.call('read', { method: 'POST', url: '/api/v1/routes', payload: add })).statusCode, 403);
    assert.equal((await f.call('operate', { method: 'DELETE', url: '/api/v1/routes/default' })).statusCode, 403);
    const r = await f.call('admin', { method: 'POST', url: '/api/v1/routes', payload: add });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { version: (await f.ctx.store.currentVersion()), notes: [] });
    assert.equal((await f.ctx.store.current())!.comment, 'route add mailbox');
    assert.equal((await f.call('admin', { method: 'POST', url: '/api/v1/routes', payload: { ...add, name: 'MAILBOX' } })).statusCode, 409);
    const noHost = await f.call('admin', { method: 'POST', url: '/api/v1/routes', payload: { name: 'x', type: 'smtp' } });
    assert.equal(noHost.statusCode, 422);
    assert.match(noHost.json<{ detail: string }>().detail, /routes\[2\]\.host: an smtp route needs host/);
    const half = await f.call('admin', { method: 'PATCH', url: '/api/v1/routes/mailbox', payload: { clientCertFile: 'c.pem' } });
    assert.equal(half.statusCode, 422);
    assert.equal(half.json<{ detail: string }>().detail, '--client-cert and --client-key go together');
    assert.equal((await f.call('admin', { method: 'PATCH', url: '/api/v1/routes/mailbox', payload: { port: 99999 } })).statusCode, 400);

    const set = await f.call('admin', { method: 'PATCH', url: '/api/v1/routes/mailbox', payload: { port: 25, domains: ['example.com', 'example.org'] } });
    assert.equal(set.statusCode, 200, set.body);
    const shown = await f.call('read', { method: 'GET', url: '/api/v1/routes/Mailbox' });
    assert.equal(shown.statusCode, 200);
    const doc = shown.json<RouteDoc>();
    assert.equal(doc.port, 25);
    assert.equal(doc.host, 'mbx.example.com');
    assert.equal(doc.tls, 'verify');
    assert.deepEqual(doc.domains, ['example.com', 'example.org']);
    assert.deepEqual(doc.serves?.find((s) => s.domain === 'example.com'), { domain: 'example.com', route: 'mailbox', wins: 'yes' });

    const oauth = await f.call('admin', {
      method: 'POST',
      url: '/api/v1/routes',
      payload: { name: 'exo', type: 'smtp', domains: ['example.org'], host: 'smtp.office365.com', port: 587, replace: true, oauth2User: 'relay@example.com', oauth2TenantId: 't', oauth2ClientId: 'c', oauth2ClientSecretFile: 'secret.txt' },
    });
    assert.equal(oauth.statusCode, 200, oauth.body);
    assert.deepEqual(oauth.json<{ notes: string[] }>().notes, ['route mailbox no longer serves example.org']);
    const list = (await f.call('read', { method: 'GET', url: '/api/v1/routes' })).json<RouteDoc[]>();
    assert.deepEqual(list.map((x) => x.name), ['default', 'mailbox', 'exo']);
    assert.equal(list[2]?.oauth2?.user, 'relay@example.com');
    assert.equal(list[2]?.pickupDir, 'pickup', 'every field arrives through the response schema');

    const ex = await f.call('read', { method: 'GET', url: '/api/v1/routes/mailbox/exchange' });
    assert.equal(ex.statusCode, 200, ex.body);
    assert.equal(ex.json<{ route: string }>().route, 'mailbox');
    assert.match(ex.json<{ script: string }>().script, /^New-InboundConnector -Name "mailgate mailbox" -ConnectorType Partner /m);
    assert.equal((await f.call(undefined, { method: 'GET', url: '/api/v1/routes/mailbox/exchange' })).statusCode, 401);
    assert.equal((await f.call('read', { method: 'GET', url: '/api/v1/routes/nope/exchange' })).statusCode, 404);
    assert.equal((await f.call('admin', { method: 'DELETE', url: '/api/v1/routes/exo' })).statusCode, 200);
    const gone = await f.call('read', { method: 'GET', url: '/api/v1/routes/exo' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json<{ detail: string }>().detail, 'no route named "exo"');
  } finally {
    await f.close();
  }
});

test('next-hop routes: a stored client secret never leaves through the API', async () => {
  const f = await apiFixture();
  try {
    await f.ctx.store.update('test', 'seed a secret', (d) => {
      d.routes.push({ name: 'exo', domains: ['example.org'], type: 'smtp', host: 'smtp.office365.com', port: 587, tls: 'verify', pickupDir: 'pickup', oauth2: { user: 'u@example.com', tenantId: 't', clientId: 'c', clientSecret: 'hunter2', scope: 's' } });
    });
    for (const url of ['/api/v1/routes', '/api/v1/routes/exo']) {
      const r = await f.call('read', { method: 'GET', url });
      assert.equal(r.statusCode, 200);
      assert.doesNotMatch(r.body, /hunter2/);
      assert.match(r.body, /"clientSecret"/);
    }
  } finally {
    await f.close();
  }
});
