/**
 * @module api/routes/quarantine-requests
 * Release requests over HTTP:
 *   GET  /quarantine/request/:token                    a small confirm page                 public
 *   POST /quarantine/request/:token                    the form's POST makes the request    public
 *   GET  /api/v1/quarantine/requests?state=            requests (default pending)           read
 *   POST /api/v1/quarantine/requests/:id/approve       release to that recipient, once      operate
 *   POST /api/v1/quarantine/requests/:id/deny                                               operate
 * The public pages carry their own signed token (ops/release-tokens.ts). A GET changes nothing, so
 * a link scanner that follows links requests no release; the pages are escaped HTML with no script
 * (Content-Security-Policy default-src 'none'), and send no Referer (the token is in the URL).
 * Touches: nothing itself (ops/ does).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { OpsError } from '../../ops/errors.ts';
import { approveRequest, denyRequest, describeRequest, listRequests, requestRelease } from '../../ops/quarantine-requests.ts';
import { escapeHtml } from '../../ops/quarantine-notify.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema as outputSchema, problemResponses } from '../schema.ts';
import { jsonSchema, parse } from './quarantine.ts';

// A wildcard, not ':token': fastify refuses path parameters over 100 characters (maxParamLength),
// and a token naming a long address is longer.
const tokenParams = z.object({ '*': z.string().regex(/^[A-Za-z0-9_.-]{10,4096}$/) }).strict();
const requestParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }).strict();
const stateQuery = z.object({ state: z.enum(['pending', 'approved', 'denied', 'all']).optional() }).strict();
const decisionBody = z.object({ why: z.string().max(500).optional() }).strict();

const STATUS: Record<string, number> = { 'not-found': 404, conflict: 409, invalid: 422, forbidden: 403, unavailable: 503 };

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>\n`);
}

function failure(reply: FastifyReply, err: unknown): FastifyReply {
  if (!(err instanceof OpsError)) throw err;
  return page(reply, STATUS[err.kind] ?? 400, 'Release request', `<p>${escapeHtml(err.message)}</p>`);
}

export function quarantineRequestRoutes(app: FastifyInstance, deps: ApiDeps): void {
  void app.register(async (scoped) => {
    // The confirm form posts an empty urlencoded body; nothing in it is read.
    scoped.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, _body, done) => done(null, {}));
    scoped.get('/quarantine/request/*', { config: { scope: 'public' }, schema: { params: jsonSchema(tokenParams) } }, async (req, reply) => {
      const token = parse(tokenParams, req.params)['*'];
      try {
        const info = describeRequest(deps.ops(actorOf(req)), token);
        return page(
          reply,
          200,
          'Request release of a quarantined message',
          `<p>From: ${escapeHtml(info.from)}</p><p>Subject: ${escapeHtml(info.subject)}</p><p>To: ${escapeHtml(info.rcpt)}</p>` +
            `<form method="post" action="${escapeHtml(token)}"><button type="submit">Request release</button></form>`,
        );
      } catch (err) {
        return failure(reply, err);
      }
    });
    scoped.post('/quarantine/request/*', { config: { scope: 'public' }, schema: { params: jsonSchema(tokenParams) } }, async (req, reply) => {
      const token = parse(tokenParams, req.params)['*'];
      try {
        requestRelease(deps.ops(actorOf(req)), token);
        return page(reply, 200, 'Release requested', '<p>Your request was sent to an administrator. You will receive the message if it is approved.</p>');
      } catch (err) {
        return failure(reply, err);
      }
    });
  });
  const Request = z.object({
    id: z.string(),
    queueId: z.string(),
    rcpt: z.string(),
    requestedAt: z.number(),
    state: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: z.number().nullable(),
  });
  const decided = { 200: outputSchema(Request), ...problemResponses(404, 409, 422) };
  const Listed = Request.extend({ approvers: z.array(z.string()).describe('who may approve it (quarantine.approvers of its domain)') });
  app.get('/api/v1/quarantine/requests', { config: { scope: 'read' }, schema: { querystring: jsonSchema(stateQuery), response: { 200: outputSchema(z.array(Listed)), ...problemResponses(422) } } }, async (req) => {
    const { state } = parse(stateQuery, req.query);
    return listRequests(deps.ops(actorOf(req)), state);
  });
  app.post('/api/v1/quarantine/requests/:id/approve', { config: { scope: 'operate' }, schema: { params: jsonSchema(requestParams), body: jsonSchema(decisionBody), response: decided } }, async (req) => {
    const { id } = parse(requestParams, req.params);
    return approveRequest(deps.ops(actorOf(req)), id, parse(decisionBody, req.body).why);
  });
  app.post('/api/v1/quarantine/requests/:id/deny', { config: { scope: 'operate' }, schema: { params: jsonSchema(requestParams), response: decided } }, async (req) => {
    const { id } = parse(requestParams, req.params);
    return denyRequest(deps.ops(actorOf(req)), id);
  });
}
