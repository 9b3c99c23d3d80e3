/**
 * @module api/routes/egress
 * The egress policy through ops/egress, as `mailgate egress` does: `GET /api/v1/egress` (read;
 * exceptions with their state today), `GET /api/v1/egress/render?format=…&date=…` (read; the
 * firewall text in a JSON document naming the config version it came from); `PATCH
 * /api/v1/egress`, `PUT /api/v1/egress/exceptions/:name`, `DELETE /api/v1/egress/exceptions/:name`
 * (admin). `egress check` has no route: it probes from the network it runs in, not the gateway's.
 * Touches: the config store (through ops/egress).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EGRESS_ACTIONS, EGRESS_FORMATS, removeEgressException, renderEgressPolicy, saveEgressException, setEgress, showEgress } from '../../ops/egress.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Ips = z.array(z.string().min(1).max(100)).max(10_000);
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const Exception = z.object({ name: z.string(), addresses: z.array(z.string()), comment: z.string(), expires: z.string(), state: z.enum(['active', 'expired']) });
const View = z.looseObject({
  version: z.number().int(),
  internalRanges: z.array(z.string()),
  relayAddresses: z.array(z.string()),
  blockedPorts: z.array(z.number().int()),
  log: z.boolean(),
  action: z.enum(EGRESS_ACTIONS),
  insideInterface: z.string(),
  outsideInterface: z.string(),
  exceptions: z.array(Exception),
});
const Change = z
  .object({
    internalRanges: Ips.optional().describe('replaces the list'),
    addInternalRanges: Ips.optional(),
    removeInternalRanges: Ips.optional(),
    relayAddresses: Ips.optional().describe("mailgate's own addresses (may still send out); replaces the list"),
    addRelayAddresses: Ips.optional(),
    removeRelayAddresses: Ips.optional(),
    blockedPorts: z.array(z.number().int().min(1).max(65535)).min(1).max(100).optional(),
    log: z.boolean().optional(),
    action: z.enum(EGRESS_ACTIONS).optional(),
    insideInterface: z.string().max(100).optional(),
    outsideInterface: z.string().max(100).optional(),
    comment: z.string().max(500).optional().describe('why (recorded in config history)'),
  })
  .strict();
const ExceptionBody = z
  .object({
    addresses: Ips.min(1).describe('source IPs or CIDRs that may still send SMTP out'),
    comment: z.string().max(200).optional(),
    expires: Day.optional().describe('last day (UTC) it is rendered'),
  })
  .strict();
const Name = z.object({ name: z.string().min(1).max(100) });
const RenderQuery = z.object({ format: z.enum(EGRESS_FORMATS), date: Day.optional().describe('the day exception expiry is judged on (default today, UTC)') }).strict();
const Rendered = z.object({ format: z.enum(EGRESS_FORMATS), version: z.number().int(), asOf: z.string(), text: z.string() });

export function egressRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const read = { config: { scope: 'read' as const } };
  const admin = { config: { scope: 'admin' as const } };
  app.get('/api/v1/egress', { ...read, schema: { summary: 'the egress policy (exceptions with their state today)', response: { 200: jsonSchema(View), ...problemResponses(503) } } }, async (req) =>
    showEgress(deps.ops(actorOf(req))),
  );
  app.get(
    '/api/v1/egress/render',
    { ...read, schema: { summary: 'the egress policy rendered for a firewall', querystring: jsonSchema(RenderQuery, 'input'), response: { 200: jsonSchema(Rendered), ...problemResponses(400, 422, 503) } } },
    async (req) => {
      const q = parseInput(RenderQuery, req.query);
      return renderEgressPolicy(deps.ops(actorOf(req)), q.format, q.date);
    },
  );
  app.patch(
    '/api/v1/egress',
    { ...admin, schema: { summary: 'change the egress policy (list fields replace; add/remove edit)', body: jsonSchema(Change, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 422) } } },
    async (req) => {
      const { comment, ...change } = parseInput(Change, req.body);
      return setEgress(deps.ops(actorOf(req)), change, comment);
    },
  );
  app.put(
    '/api/v1/egress/exceptions/:name',
    { ...admin, schema: { summary: 'add or replace a named egress exception', params: jsonSchema(Name, 'input'), body: jsonSchema(ExceptionBody, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 422) } } },
    async (req) => saveEgressException(deps.ops(actorOf(req)), parseInput(Name, req.params).name, parseInput(ExceptionBody, req.body)),
  );
  app.delete(
    '/api/v1/egress/exceptions/:name',
    { ...admin, schema: { summary: 'remove a named egress exception', params: jsonSchema(Name, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(404) } } },
    async (req) => removeEgressException(deps.ops(actorOf(req)), parseInput(Name, req.params).name),
  );
}
