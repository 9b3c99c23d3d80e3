/**
 * @module api/routes/console
 * The web console's static files, served by the admin listener (public: they hold no data; every
 * call the console makes goes through the API's scopes):
 *   GET /                  index.html of the built console (`npm run build` → dist/web), or a short
 *                          page saying to build it when running from source without a build
 *   GET /assets/:file      the bundle's content-hashed app-*.js / app-*.css, immutable
 * Every answer carries the console's strict Content-Security-Policy (no inline script or style,
 * nothing from another origin, no framing), nosniff and no Referer. Names are matched against the
 * directory's listing, never joined into a path from the request.
 * Touches: reads files of `deps.webDir`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import '../scope.ts';

export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json; charset=utf-8' };

function secure(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', CONSOLE_CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mailgate console not built</title></head>
<body><main><h1>The mailgate console is not built</h1>
<p>This gateway runs from source. Build the console with <code>npm run build</code> (or start with <code>npm start</code>, which builds it) and reload this page.</p>
<p>The admin API answers under <code>/api/v1/</code> with a bearer token meanwhile.</p></main></body></html>
`;

export function consoleRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const dir = deps.webDir;
  app.get('/', { config: { scope: 'public' }, schema: { hide: true } }, async (_req, reply) => {
    secure(reply).header('cache-control', 'no-cache');
    const html = dir ? await readFile(join(dir, 'index.html')).catch(() => undefined) : undefined;
    if (!html) return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.type('text/html; charset=utf-8').send(html);
  });
  app.get('/assets/:file', { config: { scope: 'public' }, schema: { hide: true } }, async (req, reply) => {
    secure(reply);
    const file = (req.params as { file?: string }).file ?? '';
    const ext = /\.[a-z]+$/.exec(file)?.[0] ?? '';
    const names = dir ? await readdir(join(dir, 'assets')).catch(() => [] as string[]) : [];
    if (!TYPES[ext] || !names.includes(file)) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    const body = await readFile(join(dir as string, 'assets', file));
    return reply.type(TYPES[ext]).header('cache-control', 'public, max-age=31536000, immutable').send(body);
  });
}
