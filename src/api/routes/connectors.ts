/**
 * @module api/routes/connectors
 * Inbound connectors through ops/connectors, as `mailgate connector` does, with Exchange's field
 * names: `GET /api/v1/connectors`, `GET /api/v1/connectors/:name` (read); `POST
 * /api/v1/connectors`, `PATCH /api/v1/connectors/:name`, `DELETE /api/v1/connectors/:name` (admin).
 * Touches: the config store (through ops/connectors).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addConnector, CONNECTOR_TYPES, listConnectors, removeConnector, setConnector, showConnector } from '../../ops/connectors.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Entries = z.array(z.string().min(1).max(300)).max(10_000);
const Connector = z.looseObject({
  name: z.string(),
  connectorType: z.enum(CONNECTOR_TYPES),
  senderIPAddresses: z.array(z.string()),
  senderDomains: z.array(z.string()),
  tlsSenderCertificateName: z.string().optional(),
  requireTls: z.boolean(),
  restrictDomainsToIPAddresses: z.boolean(),
  restrictDomainsToCertificate: z.boolean(),
  enabled: z.boolean(),
  comment: z.string(),
});
const Change = z
  .object({
    connectorType: z.enum(CONNECTOR_TYPES).optional(),
    senderIPAddresses: Entries.optional(),
    addSenderIPAddresses: Entries.optional(),
    removeSenderIPAddresses: Entries.optional(),
    senderDomains: Entries.optional(),
    addSenderDomains: Entries.optional(),
    removeSenderDomains: Entries.optional(),
    tlsSenderCertificateName: z.string().max(300).optional(),
    requireTls: z.boolean().optional(),
    restrictDomainsToIPAddresses: z.boolean().optional(),
    restrictDomainsToCertificate: z.boolean().optional(),
    enabled: z.boolean().optional(),
    comment: z.string().max(1000).optional(),
  })
  .strict();
const Add = Change.extend({ name: z.string().min(1).max(200), connectorType: z.enum(CONNECTOR_TYPES) }).strict();
const Name = z.object({ name: z.string().min(1).max(200) });

export function connectorRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const read = { config: { scope: 'read' as const } };
  const admin = { config: { scope: 'admin' as const } };
  app.get('/api/v1/connectors', { ...read, schema: { summary: 'inbound connectors (Get-InboundConnector)', response: { 200: jsonSchema(z.array(Connector)), ...problemResponses() } } }, async (req) =>
    listConnectors(deps.ops(actorOf(req))),
  );
  app.get(
    '/api/v1/connectors/:name',
    { ...read, schema: { summary: 'one inbound connector', params: jsonSchema(Name, 'input'), response: { 200: jsonSchema(Connector), ...problemResponses(404) } } },
    async (req) => showConnector(deps.ops(actorOf(req)), parseInput(Name, req.params).name),
  );
  app.post(
    '/api/v1/connectors',
    { ...admin, schema: { summary: 'add an inbound connector (New-InboundConnector)', body: jsonSchema(Add, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 409, 422) } } },
    async (req) => {
      const { name, ...change } = parseInput(Add, req.body);
      return addConnector(deps.ops(actorOf(req)), name, change);
    },
  );
  app.patch(
    '/api/v1/connectors/:name',
    { ...admin, schema: { summary: 'change an inbound connector (Set-InboundConnector)', params: jsonSchema(Name, 'input'), body: jsonSchema(Change, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 404, 422) } } },
    async (req) => setConnector(deps.ops(actorOf(req)), parseInput(Name, req.params).name, parseInput(Change, req.body)),
  );
  app.delete(
    '/api/v1/connectors/:name',
    { ...admin, schema: { summary: 'remove an inbound connector (Remove-InboundConnector)', params: jsonSchema(Name, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(404) } } },
    async (req) => removeConnector(deps.ops(actorOf(req)), parseInput(Name, req.params).name),
  );
}
