import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';
import { configToYaml } from '../../config/index.ts';

test('config: show, history with the token as actor, diff, apply, rollback; refused changes are problems with the CLI message', async () => {
  const f = await apiFixture();
  try {
    const shown = await f.call('read', { method: 'GET', url: '/api/v1/config' });
    assert.equal(shown.statusCode, 200);
    const body = shown.json<{ version: number; config: { acceptedDomains: unknown[] } }>();
    assert.equal(body.version, 1);
    assert.ok(body.config.acceptedDomains.length > 0);
    const yaml = configToYaml((await f.ctx.store.current())!.config).replace(/rejectDirectSend: false/, 'rejectDirectSend: true');
    assert.equal((await f.call('read', { method: 'POST', url: '/api/v1/config', payload: { yaml } })).statusCode, 403);
    const applied = await f.call('admin', { method: 'POST', url: '/api/v1/config', payload: { yaml, comment: 'turn on RejectDirectSend' } });
    assert.equal(applied.statusCode, 200, applied.body);
    assert.equal(applied.json<{ version: number }>().version, 2);
    const stale = await f.call('admin', { method: 'POST', url: '/api/v1/config', payload: { yaml: yaml.replace(/rejectDirectSend: true/, 'rejectDirectSend: false'), baseVersion: 1 } });
    assert.equal(stale.statusCode, 409, 'made from version 1; version 2 is in force');
    assert.match(stale.json<{ detail: string }>().detail, /changed since version 1 \(now 2\)/);
    const hist = (await f.call('read', { method: 'GET', url: '/api/v1/config/history?limit=5' })).json<{ version: number; actor: string; comment: string }[]>();
    assert.deepEqual(hist[0] && { v: hist[0].version, actor: hist[0].actor, comment: hist[0].comment }, { v: 2, actor: 'admin', comment: 'turn on RejectDirectSend' });
    const diff = (await f.call('read', { method: 'GET', url: '/api/v1/config/diff' })).json<{ from: number; to: number; diff: string }>();
    assert.equal(diff.from, 1);
    assert.match(diff.diff, /\+\s*rejectDirectSend: true/);
    const changed = (await f.call('read', { method: 'GET', url: '/api/v1/config?changed=true' })).json<{ config: Record<string, unknown> }>();
    assert.ok(!('dns' in changed.config) || JSON.stringify(changed.config).length < JSON.stringify(body.config).length);

    const bad = await f.call('admin', { method: 'POST', url: '/api/v1/config', payload: { yaml: 'acceptedDomains: [{ domainName: 7 }]\n' } });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.json<{ detail: string }>().detail, /^request: acceptedDomains\[0\]/m);
    const valid = await f.call('read', { method: 'POST', url: '/api/v1/config/validate', payload: { yaml: 'organization: { name: x }\n' } });
    assert.equal(valid.statusCode, 200);
    assert.ok(valid.json<{ incomplete: string[] }>().incomplete.length > 0);
    const empty = await f.call('admin', { method: 'POST', url: '/api/v1/config', payload: { yaml: 'organization: { name: x }\n' } });
    assert.equal(empty.statusCode, 422);
    assert.match(empty.json<{ detail: string }>().detail, /^refused: .*Pass --force to save it anyway$/);
    assert.equal((await f.call('admin', { method: 'POST', url: '/api/v1/config', payload: { comment: 'no yaml' } })).statusCode, 400);

    const missing = await f.call('admin', { method: 'POST', url: '/api/v1/config/rollback', payload: { version: 99 } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json<{ detail: string }>().detail, 'no configuration version 99 (see config history)');
    const inForce = await f.call('admin', { method: 'POST', url: '/api/v1/config/rollback', payload: { version: 2 } });
    assert.equal(inForce.statusCode, 409);
    assert.equal(inForce.json<{ detail: string }>().detail, 'version 2 is already in force');
    const back = await f.call('admin', { method: 'POST', url: '/api/v1/config/rollback', payload: { version: 1, comment: 'undo' } });
    assert.equal(back.json<{ version: number }>().version, 3);
    const v3 = (await f.ctx.store.current())!;
    assert.equal(v3.actor, 'admin');
    assert.equal(v3.comment, 'rollback to version 1: undo');
    assert.equal(v3.config.organization.rejectDirectSend, false);
    assert.equal((await f.call('read', { method: 'GET', url: '/api/v1/config?version=9' })).statusCode, 404);
    const defaults = await f.call('read', { method: 'GET', url: '/api/v1/config/defaults' });
    assert.equal(defaults.statusCode, 200);
    assert.ok('organization' in defaults.json<Record<string, unknown>>());
  } finally {
    await f.close();
  }
});

test('org and domains: read, change as the token, refusals with the CLI messages', async () => {
  const f = await apiFixture();
  try {
    const org = await f.call('read', { method: 'GET', url: '/api/v1/org' });
    assert.equal(org.json<{ rejectDirectSend: boolean }>().rejectDirectSend, false);
    const set = await f.call('admin', { method: 'PATCH', url: '/api/v1/org', payload: { rejectDirectSend: true } });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal((await f.ctx.store.current())!.comment, 'org set rejectDirectSend=true');
    assert.equal((await f.ctx.store.current())!.actor, 'admin');
    const nothing = await f.call('admin', { method: 'PATCH', url: '/api/v1/org', payload: {} });
    assert.equal(nothing.statusCode, 422);
    assert.equal(nothing.json<{ detail: string }>().detail, 'org set: nothing to change');
    assert.equal((await f.call('admin', { method: 'PATCH', url: '/api/v1/org', payload: { rejectDirectSend: 'yes' } })).statusCode, 400);

    const list = (await f.call('read', { method: 'GET', url: '/api/v1/domains' })).json<{ domainName: string }[]>();
    const first = list[0]?.domainName ?? assert.fail('the example configuration has a domain');
    const added = await f.call('admin', { method: 'POST', url: '/api/v1/domains', payload: { domainName: 'Example.NET', domainType: 'InternalRelay' } });
    assert.equal(added.statusCode, 200, added.body);
    const dup = await f.call('admin', { method: 'POST', url: '/api/v1/domains', payload: { domainName: 'example.net' } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json<{ detail: string }>().detail, 'accepted domain "example.net" already exists');
    assert.equal((await f.call('admin', { method: 'DELETE', url: '/api/v1/domains/example.net' })).statusCode, 200);
    const gone = await f.call('admin', { method: 'DELETE', url: '/api/v1/domains/example.net' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json<{ detail: string }>().detail, 'no accepted domain named "example.net"');
    for (const d of list.slice(1)) assert.equal((await f.call('admin', { method: 'DELETE', url: `/api/v1/domains/${encodeURIComponent(d.domainName)}` })).statusCode, 200);
    const last = await f.call('admin', { method: 'DELETE', url: `/api/v1/domains/${encodeURIComponent(first)}` });
    assert.equal(last.statusCode, 422);
    assert.match(last.json<{ detail: string }>().detail, /^refused: .*Pass --force/);
    assert.equal((await f.call('admin', { method: 'DELETE', url: `/api/v1/domains/${encodeURIComponent(first)}?force=true` })).statusCode, 200);
  } finally {
    await f.close();
  }
});
