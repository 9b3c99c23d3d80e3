/**
 * @module api/routes/listeners
 * Receive connectors (the SMTP listeners) through ops/listeners, as `mailgate listener` does:
 * `GET /api/v1/listeners`, `GET /api/v1/listeners/:name` (read); `POST /api/v1/listeners`,
 * `PATCH /api/v1/listeners/:name`, `DELETE /api/v1/listeners/:name?force=true` (admin).
 * Touches: the config store (through ops/listeners).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addListener, LISTENER_ROLES, listListeners, removeListener, setListener, showListener, TLS_MODES } from '../../ops/listeners.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Listener = z.looseObject({ name: z.string(), bind: z.string(), port: z.number().int(), role: z.enum(LISTENER_ROLES), tls: z.looseObject({ mode: z.enum(TLS_MODES) }) });
const Path = z.string().max(4096);
const Change = z
  .object({
    bind: z.string().min(1).max(100).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    role: z.enum(LISTENER_ROLES).optional(),
    tlsMode: z.enum(TLS_MODES).optional(),
    certFile: Path.optional(),
    keyFile: Path.optional(),
    clientCaFile: Path.optional(),
    requireAuth: z.boolean().optional(),
    remoteIPRanges: z.array(z.string().max(100)).max(10_000).optional(),
    defaultDeny: z.boolean().optional(),
    maxMessageSize: z.number().int().positive().optional(),
    maxConnections: z.number().int().positive().optional(),
    greetingDelayMs: z.number().int().min(0).optional(),
  })
  .strict();
const Add = Change.extend({ name: z.string().min(1).max(200), port: z.number().int().min(0).max(65535) }).strict();
const Name = z.object({ name: z.string().min(1).max(200) });
const RemoveQuery = z.object({ force: z.enum(['true', 'false']).optional() });

export function listenerRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const read = { config: { scope: 'read' as const } };
  const admin = { config: { scope: 'admin' as const } };
  app.get('/api/v1/listeners', { ...read, schema: { summary: 'receive connectors (SMTP listeners)', response: { 200: jsonSchema(z.array(Listener)), ...problemResponses() } } }, async (req) =>
    listListeners(deps.ops(actorOf(req))),
  );
  app.get(
    '/api/v1/listeners/:name',
    { ...read, schema: { summary: 'one receive connector with every setting', params: jsonSchema(Name, 'input'), response: { 200: jsonSchema(Listener), ...problemResponses(404) } } },
    async (req) => showListener(deps.ops(actorOf(req)), parseInput(Name, req.params).name),
  );
  app.post(
    '/api/v1/listeners',
    { ...admin, schema: { summary: 'add a receive connector', body: jsonSchema(Add, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 409, 422) } } },
    async (req) => {
      const { name, ...change } = parseInput(Add, req.body);
      return addListener(deps.ops(actorOf(req)), name, change);
    },
  );
  app.patch(
    '/api/v1/listeners/:name',
    { ...admin, schema: { summary: 'change a receive connector', params: jsonSchema(Name, 'input'), body: jsonSchema(Change, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 404, 422) } } },
    async (req) => setListener(deps.ops(actorOf(req)), parseInput(Name, req.params).name, parseInput(Change, req.body)),
  );
  app.delete(
    '/api/v1/listeners/:name',
    { ...admin, schema: { summary: 'remove a receive connector (the last one only with force=true)', params: jsonSchema(Name, 'input'), querystring: jsonSchema(RemoveQuery, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(404, 422) } } },
    async (req) => removeListener(deps.ops(actorOf(req)), parseInput(Name, req.params).name, { force: parseInput(RemoveQuery, req.query).force === 'true' }),
  );
}
