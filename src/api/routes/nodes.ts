/**
 * @module api/routes/nodes
 * `GET /api/v1/nodes` (read): the fleet's nodes from their heartbeats, as `mailgate node list`.
 * Touches: nothing itself (ops/nodes reads the store).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listNodes } from '../../ops/nodes.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, problemResponses } from '../schema.ts';

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

export function nodeRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/api/v1/nodes',
    { config: { scope: 'read' }, schema: { summary: 'the fleet: every node with its configuration version, queue depth and last heartbeat', response: { 200: jsonSchema(z.array(NodeRow)), ...problemResponses(503) } } },
    async (req) => listNodes(deps.ops(actorOf(req))),
  );
}
