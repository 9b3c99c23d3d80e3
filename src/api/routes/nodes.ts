/**
 * @module api/routes/nodes
 * `GET /api/v1/nodes` (read): the fleet's nodes from their heartbeats, as `mailgate node list`;
 * `DELETE /api/v1/nodes/:name` (admin): forget a decommissioned node, as `mailgate node remove`.
 * Touches: nothing itself (ops/nodes reads the store).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listNodes, removeNode } from '../../ops/nodes.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, parseInput, problemResponses } from '../schema.ts';

const NodeRow = z.object({
  name: z.string(),
  state: z.enum(['up', 'silent']),
  softwareVersion: z.string(),
  configVersion: z.number().int(),
  configLag: z.number().int(),
  queueDepth: z.number().int(),
  lastSeen: z.string(),
  ageSeconds: z.number().int(),
  startedAt: z.string(),
});

const NameParams = z.object({ name: z.string().min(1).max(200) }).strict();
const Removed = z.object({ removed: z.string() });

export function nodeRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/api/v1/nodes',
    { config: { scope: 'read' }, schema: { summary: 'the fleet: every node with its configuration version, queue depth and last heartbeat', response: { 200: jsonSchema(z.array(NodeRow)), ...problemResponses(503) } } },
    async (req) => listNodes(deps.ops(actorOf(req))),
  );
  app.delete(
    '/api/v1/nodes/:name',
    { config: { scope: 'admin' }, schema: { summary: 'forget a decommissioned node', params: jsonSchema(NameParams, 'input'), response: { 200: jsonSchema(Removed), ...problemResponses(404, 503) } } },
    async (req) => removeNode(deps.ops(actorOf(req)), parseInput(NameParams, req.params).name),
  );
}
