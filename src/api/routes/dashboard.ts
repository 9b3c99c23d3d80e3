/**
 * @module api/routes/dashboard
 * `GET /api/v1/dashboard?window=1h|1d|7d` (read): the web console's dashboard in one document
 * (ops/dashboard): traffic per bucket by attribution, refusals by reply code, Direct Send
 * sources (new ones marked), queue depth and oldest age, delivery failures, open alerts and the
 * organization's state, and on a fleet every node's state and queue depth. Times are epoch milliseconds.
 * Touches: nothing itself (ops/ reads the store).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { dashboard, DASHBOARD_RANGES } from '../../ops/dashboard.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Query = z.object({ window: z.enum(DASHBOARD_RANGES).default('1h') }).strict();
const Counts = z.array(z.number().int());
const ATTRS = ['direct-send', 'connector', 'authenticated', 'anonymous-external', 'other'] as const;
const PerAttribution = <T extends z.ZodType>(t: T) => z.object(Object.fromEntries(ATTRS.map((a) => [a, t])) as Record<(typeof ATTRS)[number], T>);
const nullableString = z.string().nullable();

const DashboardSchema = z.object({
  window: z.object({ range: z.enum(DASHBOARD_RANGES), since: z.number(), until: z.number(), bucketSeconds: z.number() }),
  traffic: z.object({
    buckets: z.array(z.number()).describe('start of each bucket, epoch ms'),
    byAttribution: PerAttribution(Counts),
    totals: PerAttribution(z.number().int()),
    refusals: z.array(z.object({ code: z.string().describe('reply and enhanced code, e.g. "550 5.7.68"'), counts: Counts, total: z.number().int() })),
  }),
  directSend: z.object({
    sources: z.array(
      z.object({ clientIp: z.string(), helo: nullableString, mailFrom: nullableString, subject: nullableString, messages: z.number().int(), firstSeen: z.number(), lastSeen: z.number(), isNew: z.boolean().describe('first seen inside the window') }),
    ),
    newSources: z.number().int(),
  }),
  queue: z.object({ byState: z.record(z.string(), z.number().int()), open: z.number().int(), oldestOpenAt: z.number().nullable(), oldestAgeSeconds: z.number().nullable() }),
  failures: z.object({
    failed: z.number().int(),
    deferred: z.number().int(),
    recent: z.array(z.object({ messageId: z.string(), at: z.number(), recipient: nullableString, detail: nullableString, mailFrom: nullableString, subject: nullableString })),
  }),
  alerts: z.object({ open: z.number().int(), recent: z.array(z.object({ id: z.number().int(), kind: z.string(), summary: z.string(), count: z.number().int(), lastSeen: z.string() })) }),
  org: z.object({ name: z.string(), rejectDirectSend: z.boolean(), rulesInAudit: z.array(z.string()), rulesEnforced: z.number().int(), configVersion: z.number().int().nullable() }),
  fleet: z
    .object({
      node: z.string().describe('the node answering (its queue is the one above)'),
      nodes: z.array(z.object({ name: z.string(), state: z.enum(['up', 'silent']), configVersion: z.number().int(), configLag: z.number().int(), queueDepth: z.number().int(), ageSeconds: z.number().int() })),
    })
    .nullable()
    .describe('every node of a fleet (shared PostgreSQL store); null on a single node'),
});

export function dashboardRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/api/v1/dashboard',
    { config: { scope: 'read' }, schema: { summary: "the web console's dashboard: traffic, refusals, Direct Send sources, queue, failures, alerts, organization", querystring: jsonSchema(Query, 'input'), response: { 200: jsonSchema(DashboardSchema), ...problemResponses(400) } } },
    async (req) => dashboard(deps.ops(actorOf(req)), parseInput(Query, req.query).window),
  );
}
