/**
 * @module api/routes/trace
 * The message trace over the API, calling ops/trace (as `mailgate trace search|show`):
 * `GET /api/v1/trace` with the CLI's filters as query parameters, and `GET /api/v1/trace/:id`
 * (the message with its events and ops/trace-explain's explanation); both scope read.
 * Touches: nothing itself (ops/trace reads the trace tables).
 */
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { searchMessages, showMessage, TRACE_CONNECTOR_TYPES, TRACE_DKIM, TRACE_DMARC, TRACE_SPF, TRACE_STATUSES, TRACE_TLS } from '../../ops/trace.ts';
import type { TraceStatus } from '../../trace/index.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, problemResponses } from '../schema.ts';
import { jsonSchemaOf, parseInput, queryBool, queryLimit } from './zod-io.ts';
import { TraceMessageSchema, TraceShowSchema } from './trace-schemas.ts';

const SearchQuery = z.strictObject({
  since: z.string().max(100).default('2d').describe('e.g. 1h, 2d, 90d or an ISO date'),
  sender: z.string().max(500).optional().describe('MAIL FROM or header From contains'),
  recipient: z.string().max(500).optional().describe('a recipient contains'),
  status: z.enum(TRACE_STATUSES as [TraceStatus, ...TraceStatus[]]).optional(),
  attribution: z.string().max(50).optional(),
  connector: z.string().max(200).optional().describe('connector name, or none'),
  connectorType: z.enum(TRACE_CONNECTOR_TYPES).optional(),
  clientIp: z.string().max(100).optional().describe('an IP or CIDR'),
  tls: z.enum(TRACE_TLS).optional(),
  spf: z.enum(TRACE_SPF).optional(),
  dkim: z.enum(TRACE_DKIM).optional(),
  dmarc: z.enum(TRACE_DMARC).optional(),
  spoofSuspect: queryBool.optional(),
  limit: queryLimit.default(1000),
});
const IdParams = z.strictObject({ id: z.string().min(1).max(200) });

export function traceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/trace', { config: { scope: 'read' }, schema: { summary: 'messages and refusals matching the filters, newest first', querystring: jsonSchemaOf(SearchQuery), response: { 200: jsonSchema(z.array(TraceMessageSchema)), ...problemResponses(400, 422) } } }, async (req) =>
    searchMessages(deps.ops(actorOf(req)), parseInput(SearchQuery, req.query, 'querystring')),
  );
  app.get('/api/v1/trace/:id', { config: { scope: 'read' }, schema: { summary: 'one message with its events (timeline) and their explanation', params: jsonSchemaOf(IdParams), response: { 200: jsonSchema(TraceShowSchema), ...problemResponses(400, 404) } } }, async (req) =>
    showMessage(deps.ops(actorOf(req)), parseInput(IdParams, req.params, 'params').id),
  );
}
