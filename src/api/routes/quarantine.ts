/**
 * @module api/routes/quarantine
 * The quarantine over HTTP, the same ops/ functions the CLI calls:
 *   GET    /api/v1/quarantine              list (reason, rule, since, recipient, limit)   read
 *   GET    /api/v1/quarantine/:id          one message with its safe preview              read
 *   GET    /api/v1/quarantine/:id/export   the .eml (message/rfc822, as an attachment)    read
 *   POST   /api/v1/quarantine/:id/release  { to?: string[], why?: string }               operate
 *   DELETE /api/v1/quarantine/:id          ?why=…                                        operate
 * Input is checked with zod (422 problem when bad); the JSON schemas come from the same zod types.
 * Touches: nothing itself (ops/ does).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { deleteQuarantine, exportQuarantine, listQuarantine, releaseQuarantine, showQuarantine } from '../../ops/quarantine.ts';
import { OpsError } from '../../ops/errors.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema as outputSchema, problemResponses } from '../schema.ts';

export const listQuery = z
  .object({
    reason: z.enum(['rule', 'dmarc', 'admin', 'malware']).optional(),
    rule: z.string().max(200).optional(),
    /** Received at or after this ISO 8601 time. */
    since: z.iso.datetime({ offset: true }).optional(),
    recipient: z.string().max(320).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();
export const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/) }).strict();
export const releaseBody = z
  .object({ to: z.array(z.string().min(3).max(320)).max(1000).optional(), why: z.string().max(500).optional() })
  .strict();
export const deleteQuery = z.object({ why: z.string().max(500).optional() }).strict();

const Item = z.object({
  id: z.string(),
  receivedAt: z.number(),
  expiresAt: z.number().describe('when the queue owner deletes it'),
  reason: z.object({ kind: z.enum(['rule', 'dmarc', 'admin', 'malware']), rule: z.string().optional().describe('the transport rule (kind rule)'), text: z.string() }),
  mailFrom: z.string(),
  headerFrom: z.string(),
  subject: z.string(),
  recipients: z.array(z.string()).describe('recipients still held'),
  attribution: z.string(),
  auth: z.object({ spf: z.string(), dkim: z.string(), dmarc: z.string(), compauth: z.string() }),
  size: z.number(),
});
const Preview = z.object({ headers: z.string(), text: z.string(), textSource: z.enum(['text/plain', 'text/html', 'none']), attachments: z.array(z.object({ name: z.string(), type: z.string(), size: z.number().describe('encoded bytes') })) });
const Event = z.looseObject({ messageId: z.string(), at: z.number(), event: z.string() });
const Released = z.object({ whole: z.boolean().describe('every open recipient went back to the queue'), released: z.array(z.object({ rcpt: z.string(), queueId: z.string() })) });
const EML = { description: 'the message as received (RFC 5322)', content: { 'message/rfc822': { schema: { type: 'string', format: 'binary' } } } };

/** A zod type as a JSON schema for the route (documentation in OpenAPI; zod does the checking). */
export function jsonSchema(t: z.ZodType): Record<string, unknown> {
  const { $schema: _draft, ...rest } = z.toJSONSchema(t, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** Parse input with zod; a refusal is a 422 problem naming the field. */
export function parse<T>(t: z.ZodType<T>, value: unknown): T {
  const r = t.safeParse(value ?? {});
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new OpsError('invalid', `${first?.path.join('.') || 'input'}: ${first?.message ?? 'invalid'}`);
}

export function quarantineRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/quarantine', { config: { scope: 'read' }, schema: { querystring: jsonSchema(listQuery), response: { 200: outputSchema(z.array(Item)), ...problemResponses(422) } } }, async (req) => {
    const q = parse(listQuery, req.query);
    return listQuarantine(deps.ops(actorOf(req)), { ...q, since: q.since === undefined ? undefined : Date.parse(q.since) });
  });
  app.get('/api/v1/quarantine/:id', { config: { scope: 'read' }, schema: { params: jsonSchema(idParams), response: { 200: outputSchema(Item.extend({ preview: Preview, events: z.array(Event) })), ...problemResponses(404, 422) } } }, async (req) => {
    const { id } = parse(idParams, req.params);
    return showQuarantine(deps.ops(actorOf(req)), id);
  });
  app.get('/api/v1/quarantine/:id/export', { config: { scope: 'read' }, schema: { params: jsonSchema(idParams), response: { 200: EML, ...problemResponses(404, 422) } } }, async (req, reply) => {
    const { id } = parse(idParams, req.params);
    const stream = exportQuarantine(deps.ops(actorOf(req)), id);
    return reply.type('message/rfc822').header('content-disposition', `attachment; filename="${id}.eml"`).send(stream);
  });
  app.post('/api/v1/quarantine/:id/release', { config: { scope: 'operate' }, schema: { params: jsonSchema(idParams), body: jsonSchema(releaseBody), response: { 200: outputSchema(Released), ...problemResponses(404, 409, 422) } } }, async (req) => {
    const { id } = parse(idParams, req.params);
    const body = parse(releaseBody, req.body);
    return releaseQuarantine(deps.ops(actorOf(req)), id, body);
  });
  app.delete('/api/v1/quarantine/:id', { config: { scope: 'operate' }, schema: { params: jsonSchema(idParams), querystring: jsonSchema(deleteQuery), response: { 204: { type: 'null', description: 'deleted' }, ...problemResponses(404, 409, 422) } } }, async (req, reply) => {
    const { id } = parse(idParams, req.params);
    await deleteQuarantine(deps.ops(actorOf(req)), id, parse(deleteQuery, req.query));
    return reply.code(204).send();
  });
}
