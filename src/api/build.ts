/**
 * @module api/build
 * `buildApi(deps)`: the admin API as a fastify instance that does not listen (daemon/ listens;
 * tests use `inject()`). Every error is an RFC 9457 problem document; unknown routes too. Every
 * route declares its scope and one hook checks bearer tokens (api/auth); the OpenAPI document is
 * generated from the route schemas (api/openapi).
 * Touches: nothing until daemon/ makes it listen.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { problem, problemHandler, sendProblem } from './problem.ts';
import { ROUTES } from './routes/index.ts';
import { ApiAuthThrottle, installAuth, type RouteScope } from './auth.ts';
import { registerOpenApi } from './openapi.ts';

export interface BuildOptions {
  /** HTTPS key and certificate (PEM); without them the instance speaks plain HTTP. */
  https?: { key: string | Buffer; cert: string | Buffer };
  /** Largest request body, bytes (default 1 MiB; an audit upload route raises its own). */
  bodyLimit?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route buildApi registered, with its scope. */
    apiRoutes: readonly RouteScope[];
    /** Bad credentials per client IP, shared by the bearer check and the console login. */
    authThrottle: ApiAuthThrottle;
  }
}

export async function buildApi(deps: ApiDeps, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // An unknown field is refused (400), not silently dropped: a misspelt setting must not look applied.
    ajv: { customOptions: { removeAdditional: false } },
    ...(opts.https ? { https: opts.https } : {}),
  }) as unknown as FastifyInstance; // the https overload types a different server; routes do not care
  app.setErrorHandler(problemHandler);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem(404, `no route ${req.method} ${req.url.split('?')[0] ?? ''}`, req.url)));
  const throttle = new ApiAuthThrottle();
  app.decorate('authThrottle', throttle);
  app.decorate('apiRoutes', installAuth(app, deps, throttle));
  await registerOpenApi(app, deps.version);
  for (const routes of ROUTES) await routes(app, deps);
  await app.ready();
  return app;
}
