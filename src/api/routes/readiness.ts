/**
 * @module api/routes/readiness
 * Acting on a Direct Send readiness source (the report itself is GET /api/v1/reports/direct-send),
 * through ops/adopt:
 *   POST /api/v1/readiness/adopt/preview  the candidate connector, config diff and replay   read
 *   POST /api/v1/readiness/adopt          save it, with the preview's baseVersion and        admin
 *                                         evidence fingerprint (409; new evidence: the problem's
 *                                         `preview` member is the new preview)
 *   POST /api/v1/readiness/users          an SMTP AUTH user for the source; password once  admin
 * A source is named by its client IP and sender, found in the report over the gateway's own
 * traffic with the same window and classification inputs (`since`, `internal`, `spf`); imported
 * Exchange Online sources migrate in Exchange (the audit plan), not here. Refusals (spoof, unknown, a shared
 * service, warnings not acknowledged) are 422 problems with the report's reason.
 * Touches: nothing itself (ops/adopt reads the trace and writes the config store).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adoptApply, adoptPreview, createSourceUser, EvidenceChanged, type AdoptPreview } from '../../ops/adopt.ts';
import { CONNECTOR_TYPES } from '../../ops/connectors.ts';
import type { ReplyText } from '../../ops/policy.ts';
import type { ApiDeps } from '../deps.ts';
import { problem, sendProblem, type Problem } from '../problem.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, parseInput, ProblemSchema, problemResponses } from '../schema.ts';

const Ref = z.object({
  clientIp: z.string().min(1).max(64).describe("the source's client IP, as the report shows it"),
  sender: z.string().max(320).describe("the source's sender (MAIL FROM) as the report shows it"),
  since: z.string().max(100).optional().describe("the report's window (default 30d)"),
  internal: z.array(z.string().min(1).max(64)).max(1000).optional().describe('internal ranges for classification'),
  spf: z.string().max(2000).optional().describe('the organization\'s SPF record ("v=spf1 ..."), instead of looking it up'),
});
const AdoptBody = Ref.extend({
  name: z.string().min(1).max(200).optional(),
  replayDays: z.number().int().min(1).max(90).optional().describe('days of trace replayed under the candidate (default 7)'),
}).strict();
const ApplyBody = AdoptBody.extend({
  baseVersion: z.number().int().positive().describe("the preview's baseVersion"),
  evidence: z.string().min(1).max(128).describe("the preview's evidence.fingerprint"),
  acknowledgeWarnings: z.boolean().optional().describe("needed when the source carries warnings (a loopback or NAT address)"),
  comment: z.string().max(500).optional(),
}).strict();
const UserBody = Ref.extend({ name: z.string().min(1).max(320).optional().describe('default: the sender address') }).strict();

const Connector = z.looseObject({ name: z.string(), connectorType: z.enum(CONNECTOR_TYPES), senderIPAddresses: z.array(z.string()), senderDomains: z.array(z.string()), tlsSenderCertificateName: z.string().optional(), requireTls: z.boolean() });
const Change = z.looseObject({ clientIp: z.string(), sender: z.string(), change: z.string(), messages: z.number(), attributionNow: z.string(), attributionCandidate: z.string(), reply: z.string(), samples: z.array(z.string()) });
const Preview = z.object({
  baseVersion: z.number().int(),
  evidence: z.object({ fingerprint: z.string(), classification: z.string(), action: z.string(), certCn: z.string(), messages: z.number().int(), lastSeen: z.string() }),
  source: z.looseObject({ clientIp: z.string(), sender: z.string(), senderDomain: z.string(), messages: z.number(), classification: z.string(), reason: z.string(), signals: z.array(z.string()), warnings: z.array(z.string()), action: z.string(), recommendation: z.string(), certCn: z.string() }),
  connector: Connector,
  diff: z.string(),
  warnings: z.array(z.string()),
  replay: z.object({
    since: z.string(),
    until: z.string(),
    replayed: z.number().int(),
    summary: z.array(z.string()),
    changes: z.array(Change),
    attribution: z.object({ messages: z.number().int(), toConnector: z.number().int(), now: z.record(z.string(), z.number()), samples: z.array(z.string()), truncated: z.boolean() }),
  }),
});
const Refused = ProblemSchema.extend({ preview: Preview.optional().describe('the evidence changed since the preview: the new preview, to check and confirm again') });
const Adopted = z.object({ version: z.number().int(), connector: z.string() });
const UserMade = z.object({ version: z.number().int(), name: z.string(), password: z.string().describe('shown once'), sendAs: z.array(z.string()), warnings: z.array(z.string()) });

const keyOnly: ReplyText = (key) => key;

export function readinessRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post(
    '/api/v1/readiness/adopt/preview',
    { config: { scope: 'read' }, schema: { summary: 'adopt a Direct Send source as a connector: the candidate, its diff and a replay (nothing saved)', body: jsonSchema(AdoptBody, 'input'), response: { 200: jsonSchema(Preview), ...problemResponses(400, 404, 409, 422) } } },
    async (req) => adoptPreview(deps.ops(actorOf(req)), parseInput(AdoptBody, req.body), deps.replyText ?? keyOnly),
  );
  app.post(
    '/api/v1/readiness/adopt',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "save the previewed connector as a new configuration version (409 when the preview's base is no longer in force, or the source's evidence changed)",
        body: jsonSchema(ApplyBody, 'input'),
        response: { 200: jsonSchema(Adopted), ...problemResponses(400, 404, 422), 409: jsonSchema(Refused) },
      },
    },
    async (req, reply) => {
      try {
        return await adoptApply(deps.ops(actorOf(req)), parseInput(ApplyBody, req.body), {}, deps.replyText ?? keyOnly);
      } catch (err) {
        if (!(err instanceof EvidenceChanged)) throw err;
        const body: Problem & { preview: AdoptPreview } = { ...problem(409, err.message, req.url), preview: err.preview };
        return sendProblem(reply, body);
      }
    },
  );
  app.post(
    '/api/v1/readiness/users',
    { config: { scope: 'admin' }, schema: { summary: 'an SMTP AUTH user for a device-or-app source, sending as its own address only; the password is shown once', body: jsonSchema(UserBody, 'input'), response: { 200: jsonSchema(UserMade), ...problemResponses(400, 404, 409, 422) } } },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return createSourceUser(deps.ops(actorOf(req)), parseInput(UserBody, req.body));
    },
  );
}
