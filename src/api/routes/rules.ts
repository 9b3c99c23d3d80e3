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
 *   GET    /api/v1/rules/hits            ?since=7d: per rule, Enforce hits and Audit would-haves read
 *   GET    /api/v1/rules/:name/would-have ?since=7d&limit=: its Audit hits and latest messages  read
 * Input is checked with zod (a 422 problem naming the field); refusals are the CLI's messages.
 * Touches: nothing itself (ops/ does).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { windowOf } from '../../ops/reports.ts';
import { RULE_TEMPLATES, addRule, addTemplateRule, lintRules, listRules, removeRule, setRule, setRuleState, showRule, testRules } from '../../ops/rules.ts';
import { replayRules } from '../../ops/rules-replay.ts';
import { ruleHits, wouldHaveHits } from '../../ops/rule-hits.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema as outputSchema, problemResponses } from '../schema.ts';
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

const Open = z.looseObject({});
const RuleRow = z.object({ priority: z.number().int(), name: z.string(), state: z.string(), mode: z.string(), conditions: z.string(), exceptions: z.string(), actions: z.string(), stop: z.boolean() });
/** A transport rule as in the configuration (transportRules[]): its identity typed, conditions, exceptions and actions open. */
const Rule = z.looseObject({ name: z.string(), priority: z.number().int(), state: z.enum(['Enabled', 'Disabled']), mode: z.enum(['Enforce', 'Audit', 'AuditAndNotify']), conditions: Open, exceptions: Open, actions: Open });
const Finding = z.object({ code: z.string(), severity: z.string(), rule: z.string(), priority: z.number().int().nullable(), message: z.string(), fix: z.string().describe('the PowerShell that fixes it, or what to do') });
const Outcome = z.object({ hits: z.array(Open), effect: Open, undetermined: z.array(z.string()), attribution: z.string() });
const ReplayRow = z.object({ rule: z.string(), mode: z.string(), state: z.string(), hits: z.number().int(), undetermined: z.number().int(), actions: z.string(), samples: z.string(), needs: z.string() });
const Version = z.object({ version: z.number().int() });
const changed = { 200: outputSchema(Version), ...problemResponses(404, 409, 422) };
const hitsQuery = z.object({ since: z.string().max(40).optional().describe('e.g. 7d, 30d or an ISO date (default 7d)') }).strict();
const wouldHaveQuery = z.object({ since: z.string().max(40).optional().describe('default 7d'), limit: z.coerce.number().int().min(1).max(1000).optional() }).strict();
const RuleHits = z.object({
  since: z.string(),
  until: z.string(),
  rules: z.array(
    z.object({
      name: z.string(),
      priority: z.number().int().nullable(),
      state: z.string(),
      mode: z.string(),
      configured: z.boolean(),
      enforced: z.number().int().describe('hits in Enforce mode (actions ran)'),
      wouldHave: z.number().int().describe('hits in an audit mode: what the rule would have done'),
      wouldHaveActions: z.array(z.string()),
      lastHit: z.string().nullable(),
    }),
  ),
});
const WouldHave = z.object({
  rule: z.string(),
  mode: z.string(),
  since: z.string(),
  until: z.string(),
  wouldHave: z.number().int(),
  actions: z.array(z.string()),
  messages: z.array(z.object({ id: z.string(), at: z.number(), clientIp: z.string(), mailFrom: z.string(), headerFrom: z.string(), subject: z.string(), attribution: z.string(), detail: z.string() })),
});

export function ruleRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const params = { params: jsonSchema(ruleParams) };
  app.get('/api/v1/rules', { config: { scope: 'read' }, schema: { response: { 200: outputSchema(z.array(RuleRow)), ...problemResponses() } } }, async (req) => listRules(deps.ops(actorOf(req))));
  app.get('/api/v1/rules/lint', { config: { scope: 'read' }, schema: { response: { 200: outputSchema(z.array(Finding)), ...problemResponses() } } }, async (req) => lintRules(deps.ops(actorOf(req))));
  app.get(
    '/api/v1/rules/hits',
    { config: { scope: 'read' }, schema: { summary: 'hits per rule from the trace: Enforce hits, and Audit hits as would-have', querystring: jsonSchema(hitsQuery), response: { 200: outputSchema(RuleHits), ...problemResponses(422) } } },
    async (req) => ruleHits(deps.ops(actorOf(req)), parse(hitsQuery, req.query)),
  );
  app.get(
    '/api/v1/rules/:name/would-have',
    { config: { scope: 'read' }, schema: { summary: 'what the rule would have done in Enforce: its Audit hits in the window (default 7d) and the latest messages', ...params, querystring: jsonSchema(wouldHaveQuery), response: { 200: outputSchema(WouldHave), ...problemResponses(404, 422) } } },
    async (req) => wouldHaveHits(deps.ops(actorOf(req)), parse(ruleParams, req.params).name, parse(wouldHaveQuery, req.query)),
  );
  app.get('/api/v1/rules/:name', { config: { scope: 'read' }, schema: { ...params, response: { 200: outputSchema(Rule), ...problemResponses(404, 422) } } }, async (req) => showRule(deps.ops(actorOf(req)), parse(ruleParams, req.params).name));
  app.post('/api/v1/rules', { config: { scope: 'admin' }, schema: { body: jsonSchema(addRuleBody), response: { 201: outputSchema(z.object({ version: z.number().int(), rule: Rule })), ...problemResponses(409, 422) } } }, async (req, reply) => {
    const b = parse(addRuleBody, req.body);
    const ctx = deps.ops(actorOf(req));
    const out = 'template' in b ? await addTemplateRule(ctx, b.template, b.exceptIps ?? [], b.name) : await addRule(ctx, b.rule, b.priority);
    return reply.code(201).send(out);
  });
  app.patch('/api/v1/rules/:name', { config: { scope: 'admin' }, schema: { ...params, body: jsonSchema(ruleObject), response: changed } }, async (req) => {
    const { name } = parse(ruleParams, req.params);
    return { version: await setRule(deps.ops(actorOf(req)), name, parse(ruleObject, req.body)) };
  });
  app.delete('/api/v1/rules/:name', { config: { scope: 'admin' }, schema: { ...params, response: changed } }, async (req) => ({ version: await removeRule(deps.ops(actorOf(req)), parse(ruleParams, req.params).name) }));
  for (const [verb, state] of [['enable', 'Enabled'], ['disable', 'Disabled']] as const) {
    app.post(`/api/v1/rules/:name/${verb}`, { config: { scope: 'admin' }, schema: { ...params, response: changed } }, async (req) => ({ version: await setRuleState(deps.ops(actorOf(req)), parse(ruleParams, req.params).name, state) }));
  }
  app.post('/api/v1/rules/test', { config: { scope: 'read' }, schema: { body: jsonSchema(ruleTestBody), response: { 200: outputSchema(Outcome), ...problemResponses(422) } } }, async (req) => testRules(deps.ops(actorOf(req)), parse(ruleTestBody, req.body)));
  app.post('/api/v1/rules/replay', { config: { scope: 'read' }, schema: { body: jsonSchema(ruleReplayBody), response: { 200: outputSchema(z.object({ messages: z.number().int(), rows: z.array(ReplayRow) })), ...problemResponses(422) } } }, async (req) => {
    const b = parse(ruleReplayBody, req.body);
    const ctx = deps.ops(actorOf(req));
    const w = await windowOf(ctx, b.since, { defaultSince: '30d' });
    return replayRules(ctx, { since: w.since, until: w.until, limit: b.limit ?? 100_000, asEnforce: b.asEnforce });
  });
}
