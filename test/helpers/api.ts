/**
 * The admin API in-process over a real data directory: a temp dir made the way `mailgate init`
 * makes one (example configuration as version 1), `buildApi` with the deps the daemon would give,
 * and real tokens for each scope (created through ops/tokens, as `mailgate token add` does).
 */
import { sqliteStore } from './stored-config.ts';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { silentLogger } from '../../src/core/log.ts';
import { openContext, type CliContext } from '../../src/cli/context.ts';
import { buildApi } from '../../src/api/build.ts';
import type { ApiDeps } from '../../src/api/deps.ts';
import { addToken, type TokenScope } from '../../src/ops/tokens.ts';
import { removeDir, tempDir } from './gateway.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';

export interface ApiFixture {
  app: FastifyInstance;
  ctx: CliContext;
  deps: ApiDeps;
  /** Secrets of the tokens named after their scope ("read", "operate", "admin"). */
  tokens: Record<TokenScope, string>;
  /** `app.inject` with the token of `scope` (none when undefined). */
  call(scope: TokenScope | undefined, opts: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function apiFixture(): Promise<ApiFixture> {
  const dir = tempDir('mailgate-api-');
  const ctx = openContext({ data: dir, create: true });
  const deps: ApiDeps = {
    logger: silentLogger,
    ops: (actor) => ({ db: ctx.db, store: ctx.store, nodes: ctx.backing.nodes, dataDir: ctx.dataDir, actor, alerts: ctx.backing.alerts, trace: sqliteTraceStore(ctx.db) }),
    version: '0.0.0-test',
    configVersion: () => sqliteStore(ctx.store).currentVersionNow(),
  };
  const tokens = {} as Record<TokenScope, string>;
  for (const scope of ['read', 'operate', 'admin'] as const) tokens[scope] = (await addToken(deps.ops('test'), { name: scope, scope })).secret;
  const app = await buildApi(deps);
  return {
    app,
    ctx,
    deps,
    tokens,
    call: (scope, opts) => app.inject({ ...opts, headers: { ...(opts.headers ?? {}), ...(scope ? { authorization: `Bearer ${tokens[scope]}` } : {}) } }),
    close: async () => {
      await app.close();
      ctx.close();
      removeDir(dir);
    },
  };
}

/**
 * Make `app.inject` carry a real bearer token of `scope` (made through ops/tokens in the deps' store,
 * as `mailgate token add` does) unless a request names its own: for route tests written before the
 * auth hook, which test their routes, not the hook (src/api/routes/scopes.test.ts tests that).
 */
export async function authorize(app: FastifyInstance, deps: ApiDeps, scope: TokenScope = 'admin'): Promise<string> {
  const { secret } = await addToken(deps.ops('test'), { name: `test-${scope}-${Math.random().toString(36).slice(2, 8)}`, scope });
  const inject = app.inject.bind(app) as (o: InjectOptions) => Promise<LightMyRequestResponse>;
  (app as unknown as { inject: (o: InjectOptions) => Promise<LightMyRequestResponse> }).inject = (o: InjectOptions) =>
    inject({ ...o, headers: { authorization: `Bearer ${secret}`, ...(o.headers ?? {}) } });
  return secret;
}
