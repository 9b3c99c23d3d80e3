/**
 * @module api/routes/health
 * `GET /api/v1/health`: the listener answers and which versions run (release and configuration),
 * for a load balancer or a monitor; public, it tells nothing else.
 * Touches: nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { z } from 'zod';
import '../scope.ts';
import { jsonSchema } from '../schema.ts';

const Health = z.object({ status: z.literal('ok'), version: z.string(), configVersion: z.number().int() });

export function healthRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/health', { config: { scope: 'public' }, schema: { summary: 'liveness and versions', response: { 200: jsonSchema(Health) } } }, async () => ({ status: 'ok', version: deps.version, configVersion: deps.configVersion() }));
}
