/**
 * @module api/routes/alerts
 * `GET /api/v1/alerts?state=open|acked|all` (read) and `POST /api/v1/alerts/:id/ack` (operate):
 * the same ops/alerts.ts functions as `mailgate alert list|ack`; the token's name is recorded as
 * who acknowledged.
 * Touches: nothing itself (ops/ reads and writes the store).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ackAlert, listAlerts } from '../../ops/alerts.ts';
import { OpsError } from '../../ops/errors.ts';
import { jsonSchema, problemResponses } from '../schema.ts';

const listQuery = z.object({ state: z.enum(['open', 'acked', 'all']).default('open'), limit: z.coerce.number().int().positive().max(10_000).default(1000) }).strict();
const idParams = z.object({ id: z.coerce.number().int().positive() }).strict();

const Alert = z.object({
  id: z.number().int(),
  kind: z.string(),
  state: z.enum(['open', 'acked']),
  count: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  summary: z.string(),
  key: z.string().describe('what the alert is deduplicated by'),
  detail: z.record(z.string(), z.unknown()),
  ackedBy: z.string().nullable(),
  ackedAt: z.string().nullable(),
  notifiedAt: z.string().nullable(),
});

function parse<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new OpsError('invalid', r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  return r.data;
}

export function alertRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/alerts', { config: { scope: 'read' }, schema: { querystring: z.toJSONSchema(listQuery, { io: 'input', target: 'draft-7' }), response: { 200: jsonSchema(z.array(Alert)), ...problemResponses(422) } } }, async (req) => {
    const q = parse(listQuery, req.query);
    return listAlerts(deps.ops(actorOf(req)), q);
  });
  app.post('/api/v1/alerts/:id/ack', { config: { scope: 'operate' }, schema: { params: z.toJSONSchema(idParams, { io: 'input', target: 'draft-7' }), response: { 200: jsonSchema(Alert), ...problemResponses(404, 409, 422) } } }, async (req) => {
    const { id } = parse(idParams, req.params);
    return ackAlert(deps.ops(actorOf(req)), id);
  });
}
