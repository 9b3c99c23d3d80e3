import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';
import { SCOPE_ORDER } from '../scope.ts';

test('every route: 401 without a token, 403 with a token one scope too small (before the handler runs)', async () => {
  const f = await apiFixture();
  try {
    const before = (await f.ctx.store.currentVersion());
    const routes = f.app.apiRoutes.filter((r) => r.method !== 'HEAD');
    assert.ok(routes.length > 5);
    for (const { method, url, scope } of routes) {
      const path = url.replace(/:([A-Za-z0-9_]+)/g, 'x');
      const m = method as 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
      const none = await f.app.inject({ method: m, url: path, payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
      if (scope === 'public') {
        assert.notEqual(none.statusCode, 401, `${method} ${url} is public`);
        continue;
      }
      assert.equal(none.statusCode, 401, `${method} ${url} without a token`);
      assert.match(none.headers['www-authenticate'] as string, /^Bearer/);
      const lower = SCOPE_ORDER[SCOPE_ORDER.indexOf(scope) - 1];
      if (lower === 'read' || lower === 'operate') {
        const r = await f.call(lower, { method: m, url: path, payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
        assert.equal(r.statusCode, 403, `${method} ${url} with a ${lower} token`);
      }
    }
    assert.equal((await f.ctx.store.currentVersion()), before, 'no refused request changed anything');
  } finally {
    await f.close();
  }
});
