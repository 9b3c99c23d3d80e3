/**
 * @module api/routes/domains
 * Accepted domains through ops/domains, as `mailgate domain` does: `GET /api/v1/domains` (read),
 * `POST /api/v1/domains` and `DELETE /api/v1/domains/:name` (admin).
 * Touches: the config store (through ops/domains).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addDomain, DOMAIN_TYPES, listDomains, removeDomain } from '../../ops/domains.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Domain = z.looseObject({ domainName: z.string(), domainType: z.enum(DOMAIN_TYPES), matchSubDomains: z.boolean() });
const AddBody = z
  .object({ domainName: z.string().min(1).max(253), domainType: z.enum(DOMAIN_TYPES).optional(), matchSubDomains: z.boolean().optional(), comment: z.string().max(500).optional() })
  .strict();
const Name = z.object({ name: z.string().min(1).max(253) });
const RemoveQuery = z.object({ force: z.enum(['true', 'false']).optional(), comment: z.string().max(500).optional() });

export function domainRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/domains', { config: { scope: 'read' }, schema: { summary: 'accepted domains', response: { 200: jsonSchema(z.array(Domain)), ...problemResponses() } } }, async (req) =>
    listDomains(deps.ops(actorOf(req))),
  );
  app.post(
    '/api/v1/domains',
    { config: { scope: 'admin' }, schema: { summary: 'add an accepted domain (New-AcceptedDomain)', body: jsonSchema(AddBody, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 409, 422) } } },
    async (req) => addDomain(deps.ops(actorOf(req)), parseInput(AddBody, req.body)),
  );
  app.delete(
    '/api/v1/domains/:name',
    {
      config: { scope: 'admin' },
      schema: { summary: 'remove an accepted domain (the last one only with force=true)', params: jsonSchema(Name, 'input'), querystring: jsonSchema(RemoveQuery, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(404, 422) } },
    },
    async (req) => {
      const { name } = parseInput(Name, req.params);
      const q = parseInput(RemoveQuery, req.query);
      return removeDomain(deps.ops(actorOf(req)), name, { force: q.force === 'true', ...(q.comment !== undefined ? { comment: q.comment } : {}) });
    },
  );
}
