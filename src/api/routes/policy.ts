/**
 * @module api/routes/policy
 * The policy what-if and replay over HTTP, the same ops/policy.ts functions `mailgate policy test`
 * and `mailgate policy replay` call:
 *   POST /api/v1/policy/test    { ip, from, to[], helo?, headerFrom?, auth?, certName?, … , config? }  read
 *   POST /api/v1/policy/replay  { since?, set?[], config?, samples? }                                     read
 * `config` is a candidate configuration as YAML/JSON text (the CLI's `-f file`). Input is checked
 * with zod (a 422 problem naming the field); refusals are the CLI's messages as problems.
 * Touches: nothing itself (ops/ does; the what-if may ask DNS, as the CLI does).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DKIM_RESULTS, DMARC_POLICIES, DMARC_RESULTS, SPF_RESULTS, parseCandidate, policyReplay, policyTest, type ReplyText } from '../../ops/policy.ts';
import { windowOf } from '../../ops/reports.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, parse } from './quarantine.ts';

const address = z.string().max(320);
const configText = z.string().max(5_000_000).describe('A candidate configuration (YAML or JSON text) instead of the version in force.');

export const policyTestBody = z
  .object({
    ip: z.string().min(1).max(64).describe('Client IP.'),
    helo: z.string().max(255).optional(),
    from: address.describe('MAIL FROM ("" for the null sender).'),
    to: z.array(address.min(1)).min(1).max(1000).describe('RCPT TO addresses.'),
    headerFrom: address.optional(),
    auth: z.string().max(320).optional().describe('As if authenticated as this SMTP AUTH user.'),
    certName: z.string().max(255).optional(),
    certUnverified: z.boolean().optional(),
    tls: z.boolean().optional(),
    listener: z.string().max(100).optional().describe('Receive connector (default: the first).'),
    config: configText.optional(),
    spf: z.enum(SPF_RESULTS).optional(),
    dkim: z.enum(DKIM_RESULTS).optional(),
    dmarc: z.enum(DMARC_RESULTS).optional(),
    dmarcPolicy: z.enum(DMARC_POLICIES).optional(),
  })
  .strict();

export const policyReplayBody = z
  .object({
    since: z.string().max(40).optional().describe('e.g. 7d, 30d or an ISO date (default 30d).'),
    set: z.array(z.string().min(1).max(100_000)).max(100).optional().describe('Settings changed in the candidate: "org.rejectDirectSend=true".'),
    config: configText.optional(),
    samples: z.number().int().min(0).max(20).optional(),
  })
  .strict();

/** Without daemon/'s formatter, the reply key names the reply. */
const keyOnly: ReplyText = (key) => key;

export function policyRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const replyText = deps.replyText ?? keyOnly;
  app.post('/api/v1/policy/test', { config: { scope: 'read' }, schema: { body: jsonSchema(policyTestBody) } }, async (req) => {
    const { config, ...facts } = parse(policyTestBody, req.body);
    return policyTest(deps.ops(actorOf(req)), { ...facts, candidate: config === undefined ? undefined : parseCandidate(config) }, replyText);
  });
  app.post('/api/v1/policy/replay', { config: { scope: 'read' }, schema: { body: jsonSchema(policyReplayBody) } }, async (req) => {
    const b = parse(policyReplayBody, req.body);
    const ctx = deps.ops(actorOf(req));
    const candidate = b.config === undefined ? undefined : parseCandidate(b.config);
    const { changes: _changes, ...report } = await policyReplay(ctx, { window: await windowOf(ctx, b.since, { defaultSince: '30d' }), set: b.set, candidate, samples: b.samples }, replyText);
    return report;
  });
}
