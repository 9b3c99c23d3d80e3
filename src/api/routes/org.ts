/**
 * @module api/routes/org
 * `GET /api/v1/org` (read) and `PATCH /api/v1/org` (admin): the Organization settings, chiefly
 * RejectDirectSend, through ops/org as `mailgate org show|set` does.
 * Touches: the config store (through ops/org).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { setOrg, showOrg } from '../../ops/org.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Org = z.looseObject({ name: z.string(), rejectDirectSend: z.boolean(), rejectDirectSendHeaderFrom: z.boolean(), hostname: z.string() });
const OrgPatch = z
  .object({
    rejectDirectSend: z.boolean().optional(),
    rejectDirectSendHeaderFrom: z.boolean().optional(),
    name: z.string().max(200).optional(),
    hostname: z.string().max(253).optional(),
    comment: z.string().max(500).optional(),
  })
  .strict();

export function orgRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/org', { config: { scope: 'read' }, schema: { summary: 'the organization settings', response: { 200: jsonSchema(Org), ...problemResponses() } } }, async (req) =>
    showOrg(deps.ops(actorOf(req))),
  );
  app.patch(
    '/api/v1/org',
    { config: { scope: 'admin' }, schema: { summary: 'change organization settings (Set-OrganizationConfig)', body: jsonSchema(OrgPatch, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 422) } } },
    async (req) => {
      const { comment, ...set } = parseInput(OrgPatch, req.body);
      return setOrg(deps.ops(actorOf(req)), set, comment);
    },
  );
}
