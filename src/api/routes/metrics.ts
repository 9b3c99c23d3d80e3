/**
 * @module api/routes/metrics
 * `GET /metrics`: the Prometheus scrape (text format 0.0.4), every receive worker's series summed
 * with the queue owner's (daemon/metrics-link.ts). Its scope is decided by daemon/ from where the
 * admin listener is: `public` on loopback, or anywhere with `metrics.public: true`; else `read`
 * (a token with the read scope, sent as Prometheus' `authorization: { credentials: … }`).
 * Touches: nothing (the scrape is injected).
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { OpsError } from '../../ops/errors.ts';
import '../scope.ts';

export function metricsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const m = deps.metrics;
  // Without a scrape (not the queue owner) the route only answers 503: nothing to protect.
  app.get('/metrics', { config: { scope: m?.scope ?? 'public' } }, async (_req, reply) => {
    if (!m) throw new OpsError('unavailable', 'metrics are not collected in this process');
    const text = await m.scrape();
    return reply.type(m.contentType).send(text);
  });
}
