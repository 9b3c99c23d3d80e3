/**
 * @module api/routes/rules
 * Transport rules over HTTP, the same ops/rules.ts and ops/rules-replay.ts functions `mailgate rule`
 * calls (each change is a new configuration version, with the token's name as actor):
 *   GET    /api/v1/rules                 list (priority order)                               read
 *   GET    /api/v1/rules/lint            the rule mistakes of the Exchange reference §5.5    read
 *   GET    /api/v1/rules/:name           one rule                                             read
 *   POST   /api/v1/rules                 { rule, priority? } or { template, exceptIps?, name? } admin
 *   PATCH  /api/v1/rules/:name           fields to change (mode, priority, conditions, …)     admin
 *   DELETE /api/v1/rules/:name                                                                admin
 *   POST   /api/v1/rules/:name/enable | /disable                                              admin
 *   POST   /api/v1/rules/test            what-if for one message's facts                      read
 *   POST   /api/v1/rules/replay          { since?, limit?, asEnforce? } over the trace        read
 * Input is checked with zod (a 422 problem naming the field); refusals are the CLI's messages.
 * Touches: nothing itself (ops/ does).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { windowOf } from '../../ops/reports.ts';
import { RULE_TEMPLATES, addRule, addTemplateRule, lintRules, listRules, removeRule, setRule, setRuleState, showRule, testRules } from '../../ops/rules.ts';
import { replayRules } from '../../ops/rules-replay.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, parse } from './quarantine.ts';

export const ruleParams = z.object({ name: z.string().min(1).max(200) }).strict();
const ruleObject = z.record(z.string(), z.unknown());
export const addRuleBody = z.union([
  z.object({ rule: ruleObject.describe('The rule as in the configuration (transportRules[]); priority may be left out.'), priority: z.number().int().min(0).optional() }).strict(),
  z.object({ template: z.enum(RULE_TEMPLATES as unknown as ['direct-send-quarantine']), exceptIps: z.array(z.string().max(64)).max(1000).optional(), name: z.string().min(1).max(200).optional() }).strict(),
]);
export const ruleTestBody = z
  .object({
    clientIp: z.string().min(1).max(64),
    mailFrom: z.string().max(320),
    headerFrom: z.string().max(320).optional(),
    recipients: z.array(z.string().min(1).max(320)).min(1).max(1000),
    subject: z.string().max(10_000).optional(),
    headers: z.array(z.tuple([z.string().max(200), z.string().max(100_000)])).max(1000).optional(),
    body: z.string().max(10_000_000).optional(),
    attachments: z.array(z.string().max(1000)).max(1000).optional(),
    size: z.number().int().min(0).optional(),
    authUser: z.string().max(320).optional(),
    listener: z.string().max(100).optional(),
    auth: z.object({ spf: z.string().max(20).optional(), dkim: z.string().max(20).optional(), dmarc: z.string().max(20).optional(), compauth: z.string().max(20).optional(), spoofSuspect: z.boolean().optional() }).strict().optional(),
  })
  .strict();
export const ruleReplayBody = z
  .object({ since: z.string().max(40).optional().describe('e.g. 7d, 30d or an ISO date (default 30d).'), limit: z.number().int().positive().max(1_000_000).optional(), asEnforce: z.boolean().optional() })
  .strict();

export function ruleRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const params = { params: jsonSchema(ruleParams) };
  app.get('/api/v1/rules', { config: { scope: 'read' } }, async (req) => listRules(deps.ops(actorOf(req))));
  app.get('/api/v1/rules/lint', { config: { scope: 'read' } }, async (req) => lintRules(deps.ops(actorOf(req))));
  app.get('/api/v1/rules/:name', { config: { scope: 'read' }, schema: params }, async (req) => showRule(deps.ops(actorOf(req)), parse(ruleParams, req.params).name));
  app.post('/api/v1/rules', { config: { scope: 'admin' }, schema: { body: jsonSchema(addRuleBody) } }, async (req, reply) => {
    const b = parse(addRuleBody, req.body);
    const ctx = deps.ops(actorOf(req));
    const out = 'template' in b ? await addTemplateRule(ctx, b.template, b.exceptIps ?? [], b.name) : await addRule(ctx, b.rule, b.priority);
    return reply.code(201).send(out);
  });
  app.patch('/api/v1/rules/:name', { config: { scope: 'admin' }, schema: { ...params, body: jsonSchema(ruleObject) } }, async (req) => {
    const { name } = parse(ruleParams, req.params);
    return { version: await setRule(deps.ops(actorOf(req)), name, parse(ruleObject, req.body)) };
  });
  app.delete('/api/v1/rules/:name', { config: { scope: 'admin' }, schema: params }, async (req) => ({ version: await removeRule(deps.ops(actorOf(req)), parse(ruleParams, req.params).name) }));
  for (const [verb, state] of [['enable', 'Enabled'], ['disable', 'Disabled']] as const) {
    app.post(`/api/v1/rules/:name/${verb}`, { config: { scope: 'admin' }, schema: params }, async (req) => ({ version: await setRuleState(deps.ops(actorOf(req)), parse(ruleParams, req.params).name, state) }));
  }
  app.post('/api/v1/rules/test', { config: { scope: 'read' }, schema: { body: jsonSchema(ruleTestBody) } }, async (req) => testRules(deps.ops(actorOf(req)), parse(ruleTestBody, req.body)));
  app.post('/api/v1/rules/replay', { config: { scope: 'read' }, schema: { body: jsonSchema(ruleReplayBody) } }, async (req) => {
    const b = parse(ruleReplayBody, req.body);
    const ctx = deps.ops(actorOf(req));
    const w = await windowOf(ctx, b.since, { defaultSince: '30d' });
    return replayRules(ctx, { since: w.since, until: w.until, limit: b.limit ?? 100_000, asEnforce: b.asEnforce });
  });
}
