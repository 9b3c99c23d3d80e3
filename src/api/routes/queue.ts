/**
 * @module api/routes/queue
 * The mail queue over the API, calling ops/queue (the same functions and state rules as
 * `mailgate queue`): `GET /api/v1/queue` and `GET /api/v1/queue/:id` (scope read);
 * `POST /api/v1/queue/flush`, `POST /api/v1/queue/:id/hold|release` and `DELETE /api/v1/queue/:id`
 * (scope operate). Refusals are problems with the CLI's messages (404 unknown id, 409 wrong state).
 * Touches: nothing itself (ops/queue: the queue tables and the spool).
 */
import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { deleteMessage, flushQueue, holdMessage, listQueue, QUEUE_STATES, releaseMessage, showQueued } from '../../ops/queue.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, problemResponses } from '../schema.ts';
import { jsonSchemaOf, parseInput, queryBool, queryLimit } from './zod-io.ts';

const ListQuery = z.strictObject({
  state: z.enum(QUEUE_STATES as [string, ...string[]]).optional().describe('only messages in this state'),
  all: queryBool.optional().describe('include delivered (done) and bounced messages'),
  limit: queryLimit.default(1000),
});
const IdParams = z.strictObject({ id: z.string().min(1).max(200) });
const Entry = z.object({
  id: z.string(),
  state: z.enum(QUEUE_STATES as [string, ...string[]]),
  received: z.string().describe('ISO time'),
  nextAttempt: z.string().nullable(),
  attempts: z.number().int(),
  from: z.string().describe('MAIL FROM; <> for the null sender'),
  size: z.number().int(),
  lastError: z.string().nullable(),
});
const Detail = Entry.extend({ recipients: z.array(z.object({ rcpt: z.string(), status: z.string(), lastReply: z.string().nullable() })) });
const list = { 200: jsonSchema(z.array(Entry)), ...problemResponses(400) };
const detail = { 200: jsonSchema(Detail), ...problemResponses(400, 404) };
const moved = { 200: jsonSchema(Detail), ...problemResponses(400, 404, 409) };

export function queueRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const ctx = (req: FastifyRequest) => deps.ops(actorOf(req));
  const idOf = (req: FastifyRequest): string => parseInput(IdParams, req.params, 'params').id;
  const params = jsonSchemaOf(IdParams);

  app.get('/api/v1/queue', { config: { scope: 'read' }, schema: { querystring: jsonSchemaOf(ListQuery), response: list } }, async (req) => {
    const q = parseInput(ListQuery, req.query, 'querystring');
    return listQueue(ctx(req), { state: q.state as (typeof QUEUE_STATES)[number] | undefined, all: q.all, limit: q.limit });
  });
  app.get('/api/v1/queue/:id', { config: { scope: 'read' }, schema: { params, response: detail } }, async (req) => showQueued(ctx(req), idOf(req)));
  app.post('/api/v1/queue/flush', { config: { scope: 'operate' }, schema: { response: { 200: jsonSchema(z.object({ due: z.number().int().describe('messages made due now') })), ...problemResponses() } } }, async (req) => ({ due: await flushQueue(ctx(req)) }));
  app.post('/api/v1/queue/:id/hold', { config: { scope: 'operate' }, schema: { params, response: moved } }, async (req) => {
    const c = ctx(req);
    await holdMessage(c, idOf(req));
    return showQueued(c, idOf(req));
  });
  app.post('/api/v1/queue/:id/release', { config: { scope: 'operate' }, schema: { params, response: moved } }, async (req) => {
    const c = ctx(req);
    await releaseMessage(c, idOf(req));
    return showQueued(c, idOf(req));
  });
  app.delete('/api/v1/queue/:id', { config: { scope: 'operate' }, schema: { params, response: { 204: { type: 'null', description: 'deleted' }, ...problemResponses(400, 404, 409) } } }, async (req, reply) => {
    await deleteMessage(ctx(req), idOf(req));
    return reply.code(204).send();
  });
}
