/**
 * One section of the configuration edited over the API (the console's Configuration page): errors
 * come back with the path of each field, an edit made on an older version is refused (409), a dry
 * run answers the diff, and history, diff and rollback show and undo the edit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';

type Problem = { status: number; detail: string; errors?: { path: string; reason: string }[] };

test('config sections: inline errors with paths, base version checked, dry run, then history, diff and rollback', async () => {
  const f = await apiFixture();
  try {
    const put = (scope: 'read' | 'admin' | undefined, section: string, payload: object) => f.call(scope, { method: 'PUT', url: `/api/v1/config/sections/${section}`, payload });
    const base = await f.ctx.store.currentVersion();
    const lists = { allow: { ips: [], senderDomains: [] }, block: { ips: ['192.0.2.7/32'], senderDomains: ['spam.test'] } };
    assert.equal((await put(undefined, 'lists', { value: lists, baseVersion: base })).statusCode, 401);
    assert.equal((await put('read', 'lists', { value: lists, baseVersion: base })).statusCode, 403);
    assert.equal((await put('admin', 'users', { value: [], baseVersion: base })).statusCode, 400, 'users are not a section');
    assert.equal((await put('admin', 'lists', { baseVersion: base })).statusCode, 400, 'no value is not "the default"');

    const bad = await put('admin', 'lists', { value: { ...lists, block: { ips: ['300.1.1.1', '192.0.2.0/24'], senderDomains: [] } }, baseVersion: base });
    assert.equal(bad.statusCode, 422, bad.body);
    const pb = bad.json<Problem>();
    assert.deepEqual(pb.errors?.map((e) => e.path), ['lists.block.ips[0]']);
    assert.match(pb.detail, /lists\.block\.ips\[0\]/);
    const badRoute = await put('admin', 'routes', { value: [{ name: 'x', domains: ['*'], type: 'smtp', port: 99999 }], baseVersion: base });
    assert.equal(badRoute.statusCode, 422, badRoute.body);
    assert.ok(badRoute.json<Problem>().errors?.every((e) => e.path.startsWith('routes[0]')), badRoute.body);

    const dry = await put('admin', 'lists', { value: lists, baseVersion: base, dryRun: true });
    assert.equal(dry.statusCode, 200, dry.body);
    assert.equal(dry.json<{ applied: boolean }>().applied, false);
    assert.match(dry.json<{ diff: string }>().diff, /^\+\s+ips: \[192\.0\.2\.7\/32\]$/m);
    assert.equal((await f.ctx.store.currentVersion()), base);

    const ok = await put('admin', 'lists', { value: lists, baseVersion: base, comment: 'block a spammer' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual({ ...ok.json<object>(), diff: undefined, warnings: undefined }, { version: base + 1, applied: true, diff: undefined, warnings: undefined });
    assert.deepEqual((await f.ctx.store.current())!.config.lists.block.ips, ['192.0.2.7/32']);
    const stale = await put('admin', 'lists', { value: lists, baseVersion: base });
    assert.equal(stale.statusCode, 409);
    assert.match(stale.json<Problem>().detail, /changed since version \d+ \(now \d+\): reload/);

    const history = (await f.call('read', { method: 'GET', url: '/api/v1/config/history?limit=2' })).json<{ version: number; actor: string; comment: string }[]>();
    assert.deepEqual(history[0], { ...history[0], version: base + 1, actor: 'admin', comment: 'block a spammer' });
    const diff = await f.call('read', { method: 'GET', url: `/api/v1/config/diff?from=${base}&to=${base + 1}` });
    assert.match(diff.json<{ diff: string }>().diff, /192\.0\.2\.7/);
    const back = await f.call('admin', { method: 'POST', url: '/api/v1/config/rollback', payload: { version: base } });
    assert.equal(back.statusCode, 200, back.body);
    assert.deepEqual((await f.ctx.store.current())!.config.lists.block.ips, []);
  } finally {
    await f.close();
  }
});
