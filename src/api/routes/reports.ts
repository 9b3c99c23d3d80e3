/**
 * @module api/routes/reports
 * Every report over the API, calling ops/reports (as `mailgate report …`), scope read:
 * `GET /api/v1/reports/inbound|direct-send|stale-allow|egress-gone` answer the report as one JSON
 * document (the CLI's `--format json`, plus the window's note) or, with `?format=csv`, its main
 * table as CSV (formula-escaped as the CLI's); `GET /api/v1/reports/hunts` lists the saved hunts
 * and `GET /api/v1/reports/hunts/:name` runs one. Ad-hoc SQL (`POST /api/v1/reports/hunts`, body
 * `{ query, limit?, timeoutMs? }`) needs scope admin: it reads any trace column.
 * Touches: nothing itself (ops/reports reads the trace and configuration).
 */
import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { csvTable } from '../../core/csv.ts';
import { parseCidr } from '../../core/cidr.ts';
import { directSend, egressGone, hunt, HUNT_MAX_LIMIT, HUNT_MAX_QUERY, inbound, parseBlockDate, REPORT_CONNECTOR_TYPES, REPORT_TLS, reportDocument, savedHunts, staleAllow } from '../../ops/reports.ts';
import type { Report } from '../../trace/reports/index.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, problemResponses } from '../schema.ts';
import { jsonSchemaOf, parseInput, queryBool, sendCsv, tableFormat } from './zod-io.ts';

const since = z.string().max(100).optional().describe('e.g. 7d, 30d, 90d or an ISO date');
const source = z.string().max(200).optional().describe('gateway, or import:NAME');
const cidrList = z
  .string()
  .max(4000)
  .transform((v, c) => {
    const list = v.split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of list) {
      try {
        parseCidr(x);
      } catch {
        c.addIssue({ code: 'custom', message: `"${x}" is not an IP address or CIDR` });
        return z.NEVER;
      }
    }
    return list;
  });

const InboundQuery = z.strictObject({
  since,
  source,
  connectorType: z.enum(REPORT_CONNECTOR_TYPES).optional(),
  connector: z.string().max(200).optional(),
  tls: z.enum(REPORT_TLS).optional(),
  attribution: z.string().max(50).optional(),
  format: tableFormat,
});
const DirectSendQuery = z.strictObject({
  since,
  source,
  internal: cidrList.optional().describe('internal ranges for classification, comma separated'),
  spf: z.string().max(2000).optional().describe('the organization\'s SPF record ("v=spf1 ..."), instead of looking it up'),
  format: tableFormat,
});
const StaleQuery = z.strictObject({ since, all: queryBool.optional(), format: tableFormat });
const EgressQuery = z.strictObject({ blockDate: z.string().min(1).max(100).describe('YYYY-MM-DD (UTC) or an ISO time'), since, source, all: queryBool.optional(), format: tableFormat });
const HuntQuery = z.strictObject({ limit: z.coerce.number().int().positive().max(HUNT_MAX_LIMIT).optional(), format: tableFormat });
const HuntParams = z.strictObject({ name: z.string().min(1).max(100) });
const HuntBody = z.strictObject({ query: z.string().min(1).max(HUNT_MAX_QUERY), limit: z.number().int().positive().max(HUNT_MAX_LIMIT).optional(), timeoutMs: z.number().int().positive().max(60_000).optional() });

const Row = z.record(z.string(), z.unknown());
/** A report document (ops/reports reportDocument): title, window, summary, then one array of rows per section, by name. */
const ReportDoc = z
  .looseObject({
    title: z.string(),
    window: z.object({ since: z.string(), until: z.string(), clamped: z.boolean(), retentionDays: z.number() }),
    summary: z.array(z.string()),
    note: z.string().optional().describe('why the window was clamped'),
  })
  .catchall(z.array(Row))
  .describe('JSON; with ?format=csv the main section as text/csv instead');
const report = { 200: jsonSchema(ReportDoc), ...problemResponses(400, 422) };
const HuntOut = z.object({ columns: z.array(z.string()), rows: z.array(Row), truncated: z.boolean().describe('more rows matched than the limit'), ms: z.number() });

/** A report as JSON (with the window's note) or its main table as CSV. */
function send(reply: FastifyReply, r: Report, format: 'json' | 'csv', name: string): unknown {
  if (format === 'json') return { ...reportDocument(r), ...(r.window.note ? { note: r.window.note } : {}) };
  const main = r.sections[0];
  return sendCsv(reply, main ? csvTable(main.rows, main.columns) : '', `${name}.csv`);
}

export function reportRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const ctx = (req: FastifyRequest) => deps.ops(actorOf(req));
  const read = { scope: 'read' } as const;

  app.get('/api/v1/reports/inbound', { config: read, schema: { querystring: jsonSchemaOf(InboundQuery), response: report } }, async (req, reply) => {
    const { format, ...q } = parseInput(InboundQuery, req.query, 'querystring');
    return send(reply, await inbound(ctx(req), q), format, 'inbound');
  });
  app.get('/api/v1/reports/direct-send', { config: read, schema: { querystring: jsonSchemaOf(DirectSendQuery), response: report } }, async (req, reply) => {
    const { format, ...q } = parseInput(DirectSendQuery, req.query, 'querystring');
    return send(reply, await directSend(ctx(req), q), format, 'direct-send');
  });
  app.get('/api/v1/reports/stale-allow', { config: read, schema: { querystring: jsonSchemaOf(StaleQuery), response: report } }, async (req, reply) => {
    const { format, ...q } = parseInput(StaleQuery, req.query, 'querystring');
    return send(reply, await staleAllow(ctx(req), q), format, 'stale-allow');
  });
  app.get('/api/v1/reports/egress-gone', { config: read, schema: { querystring: jsonSchemaOf(EgressQuery), response: report } }, async (req, reply) => {
    const { format, blockDate, ...q } = parseInput(EgressQuery, req.query, 'querystring');
    return send(reply, await egressGone(ctx(req), { ...q, blockAt: parseBlockDate(blockDate) }), format, 'egress-gone');
  });
  app.get('/api/v1/reports/hunts', { config: read, schema: { response: { 200: jsonSchema(z.array(z.object({ name: z.string(), description: z.string(), sql: z.string() }))), ...problemResponses() } } }, async (req) => savedHunts(ctx(req)));
  app.get('/api/v1/reports/hunts/:name', { config: read, schema: { params: jsonSchemaOf(HuntParams), querystring: jsonSchemaOf(HuntQuery), response: { 200: jsonSchema(HuntOut.describe('JSON; with ?format=csv the rows as text/csv instead')), ...problemResponses(400, 404, 422) } } }, async (req, reply) => {
    const { name } = parseInput(HuntParams, req.params, 'params');
    const { format, limit } = parseInput(HuntQuery, req.query, 'querystring');
    const r = await hunt(ctx(req), { saved: name, limit });
    return format === 'csv' ? sendCsv(reply, csvTable(r.rows, r.columns), `${name}.csv`) : r;
  });
  app.post('/api/v1/reports/hunts', { config: { scope: 'admin' }, schema: { body: jsonSchemaOf(HuntBody), response: { 200: jsonSchema(HuntOut), ...problemResponses(400, 422) } } }, async (req) => {
    const b = parseInput(HuntBody, req.body, 'body');
    return hunt(ctx(req), b);
  });
}
