/**
 * @module api/routes/next-hop-routes
 * Routes (where accepted mail goes: pickup folder, SMTP next hop, MX) through ops/routes, as
 * `mailgate route` does: `GET /api/v1/routes`, `GET /api/v1/routes/:name` (read; with the sample
 * domains the route wins for; client secrets masked), `GET /api/v1/routes/:name/exchange` (read;
 * the Exchange Online connector script); `POST /api/v1/routes`, `PATCH
 * /api/v1/routes/:name`, `DELETE /api/v1/routes/:name` (admin). Named next-hop-routes to tell it
 * from the API's own routes.
 * Touches: the config store (through ops/routes).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { routeSchema } from '../../config/index.ts';
import { addRoute, listRoutes, removeRoute, ROUTE_TLS, ROUTE_TYPES, routeExchangeScript, setRoute, showRoute } from '../../ops/routes.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Text = z.string().max(1000);
const Change = z
  .object({
    type: z.enum(ROUTE_TYPES).optional(),
    domains: z.array(z.string().min(1).max(300)).min(1).max(10_000).optional().describe('recipient domains ("*" = all; the most precise match wins)'),
    host: Text.optional().describe('smtp: next hop host ("" removes it)'),
    port: z.number().int().min(1).max(65535).optional(),
    tls: z.enum(ROUTE_TLS).optional(),
    clientCertFile: Text.optional().describe('PEM certificate presented to the next hop ("" removes it; with clientKeyFile)'),
    clientKeyFile: Text.optional(),
    pickupDir: Text.optional(),
    oauth2User: Text.optional().describe('submit with XOAUTH2 as this mailbox ("" removes OAuth2)'),
    oauth2TenantId: Text.optional(),
    oauth2ClientId: Text.optional(),
    oauth2ClientSecretFile: Text.optional(),
    oauth2TokenEndpoint: Text.optional(),
  })
  .strict();
const Add = Change.extend({
  name: z.string().min(1).max(200),
  type: z.enum(ROUTE_TYPES),
  replace: z.boolean().optional().describe('take its domains over from the routes serving them (a route left with none is removed)'),
}).strict();
const Name = z.object({ name: z.string().min(1).max(200) });
/** A stored route as the schema describes it (output side: defaults filled), open for settings added later. */
const Route = z.looseObject(routeSchema.shape);
const Serves = z.array(z.object({ domain: z.string(), route: z.string(), wins: z.string() }));
const Detail = Route.extend({ serves: Serves });
const Added = ChangedSchema.extend({ notes: z.array(z.string()) });

export function nextHopRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const read = { config: { scope: 'read' as const } };
  const admin = { config: { scope: 'admin' as const } };
  app.get('/api/v1/routes', { ...read, schema: { summary: 'routes: where accepted mail goes (secrets masked)', response: { 200: jsonSchema(z.array(Route)), ...problemResponses() } } }, async (req) =>
    listRoutes(deps.ops(actorOf(req))),
  );
  app.get(
    '/api/v1/routes/:name',
    { ...read, schema: { summary: 'one route, with the sample domains it wins for', params: jsonSchema(Name, 'input'), response: { 200: jsonSchema(Detail), ...problemResponses(404) } } },
    async (req) => showRoute(deps.ops(actorOf(req)), parseInput(Name, req.params).name),
  );
  app.get(
    '/api/v1/routes/:name/exchange',
    {
      ...read,
      schema: {
        summary: 'the Exchange Online side of a route: connectors and cut-over steps (PowerShell), as `route show --exchange`',
        params: jsonSchema(Name, 'input'),
        response: { 200: jsonSchema(z.object({ route: z.string(), script: z.string() })), ...problemResponses(404, 422) },
      },
    },
    async (req) => routeExchangeScript(deps.ops(actorOf(req)), parseInput(Name, req.params).name),
  );
  app.post(
    '/api/v1/routes',
    { ...admin, schema: { summary: 'add a route', body: jsonSchema(Add, 'input'), response: { 200: jsonSchema(Added), ...problemResponses(400, 409, 422) } } },
    async (req) => {
      const { name, ...change } = parseInput(Add, req.body);
      return addRoute(deps.ops(actorOf(req)), name, change);
    },
  );
  app.patch(
    '/api/v1/routes/:name',
    { ...admin, schema: { summary: 'change a route', params: jsonSchema(Name, 'input'), body: jsonSchema(Change, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 404, 422) } } },
    async (req) => setRoute(deps.ops(actorOf(req)), parseInput(Name, req.params).name, parseInput(Change, req.body)),
  );
  app.delete(
    '/api/v1/routes/:name',
    { ...admin, schema: { summary: 'remove a route', params: jsonSchema(Name, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(404) } } },
    async (req) => removeRoute(deps.ops(actorOf(req)), parseInput(Name, req.params).name),
  );
}
