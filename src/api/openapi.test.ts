import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../test/helpers/api.ts';

interface Operation {
  security?: Record<string, string[]>[];
  'x-mailgate-scope'?: string;
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}


/** The one route whose 2xx answer is no JSON document: the Prometheus text exposition. */
const UNDESCRIBED = /^\/metrics$/;

test('the OpenAPI 3.1 document lists every registered route with its scope and a response schema', async () => {
  const f = await apiFixture();
  try {
    const r = await f.call('read', { method: 'GET', url: '/openapi.json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json<{ openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } }>();
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
    // The release-request pages and the console's files are HTML and assets for browsers, not API operations.
    const routes = f.app.apiRoutes.filter((x) => x.method !== 'HEAD' && !x.url.startsWith('/quarantine/request/') && x.url !== '/' && !x.url.startsWith('/assets/'));
    assert.ok(routes.length >= 2);
    const problems: string[] = [];
    for (const { method, url, scope } of routes) {
      const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths[path]?.[method.toLowerCase()];
      if (!op) {
        problems.push(`${method} ${url}: not in the document`);
        continue;
      }
      if (op['x-mailgate-scope'] !== scope) problems.push(`${method} ${url}: x-mailgate-scope ${String(op['x-mailgate-scope'])}, declared ${scope}`);
      const security = JSON.stringify(op.security ?? null);
      if (security !== (scope === 'public' ? '[]' : '[{"bearer":[]}]')) problems.push(`${method} ${url}: security ${security} for scope ${scope}`);
      const ok = Object.entries(op.responses ?? {}).find(([code]) => code.startsWith('2'));
      // JSON, or another declared media type (an .eml download); a declared 204 has no body to describe.
      const described = ok?.[0] === '204' ? !ok[1].content : Object.values(ok?.[1].content ?? {}).some((c) => Boolean(c.schema));
      const known = UNDESCRIBED.test(url);
      if (!described && !known) problems.push(`${method} ${url}: no 2xx response schema`);
      if (described && known) problems.push(`${method} ${url}: has a response schema now: narrow UNDESCRIBED`);
    }
    const documented = Object.entries(doc.paths).filter(([path]) => !path.startsWith('/quarantine/request/')).reduce((n, [, ops]) => n + Object.keys(ops).length, 0);
    assert.equal(documented, routes.length, 'nothing documented that is not registered');
    assert.deepEqual(problems, []);
  } finally {
    await f.close();
  }
});
