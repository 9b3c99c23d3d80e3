/**
 * @module api/routes/audit
 * The audit over the API, calling ops/audit (as `mailgate audit …`):
 * `POST /api/v1/audit/imports` (scope admin) takes one Exchange Online export as the request body
 * (`Content-Type: text/csv`, `application/json` or `application/octet-stream`; query `name`,
 * `file`, `kind`, `tenantDomains`, `dateFormat`) streamed to a temporary file as it arrives — never
 * buffered whole — up to the upload limit (413 beyond it), and answers the import summary;
 * `GET /api/v1/audit/imports` lists the imports (read); `DELETE /api/v1/audit/imports/:name`
 * removes one (admin); `GET /api/v1/audit/plan` builds the staged plan (read): JSON by default,
 * `?format=md|html|ps1` for the Markdown, the HTML page or the stage-by-stage PowerShell script.
 * Touches: nothing itself (ops/audit: <data>/uploads, the trace store, DNS unless `spf` is given).
 */
import { z } from 'zod';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditPlan, DATE_FORMATS, KIND_FLAGS, importStream, listImports, removeImport, renderPlan, UploadTooLarge } from '../../ops/audit.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, problemResponses } from '../schema.ts';
import { jsonSchemaOf, parseInput } from './zod-io.ts';

/** Largest upload by default: an Exchange message trace export of a large tenant's 90 days fits. */
export const AUDIT_UPLOAD_LIMIT = 2 * 1024 ** 3;

const UPLOAD_TYPES = ['text/csv', 'application/json', 'application/octet-stream'];
const importName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" or "-"').max(100);
const domains = z
  .string()
  .max(4000)
  .transform((v) => v.split(',').map((d) => d.trim()).filter(Boolean));

const ImportQuery = z.strictObject({
  name: importName.describe('import name: rows get source import:NAME'),
  file: z.string().max(200).optional().describe('the export\'s file name, shown in the summary and the data set'),
  kind: z.enum(KIND_FLAGS).default('auto'),
  tenantDomains: domains.optional().describe('accepted domains, comma separated (default: inferred from inbound recipients)'),
  dateFormat: z.enum(DATE_FORMATS).default('auto'),
});
const NameParams = z.strictObject({ name: importName });
const PlanQuery = z.strictObject({
  since: z.string().max(100).optional(),
  source: z.string().max(200).optional().describe('gateway or import:NAME'),
  format: z.enum(['json', 'md', 'html', 'ps1']).default('json'),
  spf: z.string().max(2000).optional().describe('the tenant\'s SPF record ("v=spf1 ..."), instead of looking it up'),
  tenantDomains: domains.optional(),
  rule: z.enum(['narrow', 'broad']).default('narrow'),
  quietDays: z.coerce.number().int().positive().max(365).default(14),
  tenant: z.string().max(100).optional(),
});

const Open = z.looseObject({});
const Dataset = z.looseObject({
  name: z.string(),
  source: z.string().describe('import:NAME'),
  files: z.array(Open),
  kinds: z.array(z.string()),
  rows: z.number().int().describe('message copies held in the trace'),
  reportRows: z.number().int(),
  first: z.number().optional(),
  last: z.number().optional(),
  tenantDomains: z.array(z.string()),
  tenantGiven: z.boolean(),
  tenantHow: z.string(),
});
const ImportSummary = z.looseObject({
  name: z.string(),
  source: z.string(),
  files: z.array(Open),
  malformed: z.array(Open),
  malformedCount: z.number().int(),
  tenantDomains: z.array(z.string()),
  tenantHow: z.string(),
  directSend: z.number().int(),
  dataset: Dataset,
});
/** The staged plan (audit/plan Plan): the top level typed, sources, connectors and stages open. */
const Plan = z
  .looseObject({
    generatedAt: z.string(),
    source: z.string(),
    rowsInWindow: z.number().int(),
    tenantDomains: z.array(z.string()),
    summary: z.array(z.string()),
    sources: z.array(Open),
    connectors: z.array(Open),
    stages: z.array(Open),
    rejects: z.string(),
    refusal: z.string().optional(),
    notes: z.array(z.string()),
  })
  .describe('JSON; ?format=md|html|ps1 answers text/markdown, text/html or a PowerShell script instead');

/** An error the problem handler renders with `status`. */
function httpError(status: number, message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode: status });
}

export async function auditRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const ctx = (req: FastifyRequest) => deps.ops(actorOf(req));
  const limit = deps.auditUploadLimit ?? AUDIT_UPLOAD_LIMIT;

  // The upload route in a scope of its own: its bodies stay streams (the default JSON parser elsewhere is untouched).
  await app.register(async (upload) => {
    upload.removeContentTypeParser('application/json');
    upload.addContentTypeParser(UPLOAD_TYPES, { bodyLimit: limit }, (_req, payload, done) => done(null, payload));
    upload.post(
      '/api/v1/audit/imports',
      { config: { scope: 'admin' }, bodyLimit: limit, schema: { querystring: jsonSchemaOf(ImportQuery), consumes: UPLOAD_TYPES, response: { 201: jsonSchema(ImportSummary), ...problemResponses(400, 413, 415, 422) } } },
      async (req, reply) => {
        const q = parseInput(ImportQuery, req.query, 'querystring');
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) throw httpError(413, `the upload is larger than ${limit} bytes`);
        const body = req.body as Readable | undefined;
        if (!body || typeof body.pipe !== 'function') throw httpError(400, 'the export file is the request body');
        try {
          const summary = await importStream(ctx(req), body, { ...q, file: q.file ?? `${q.name}.csv`, limitBytes: limit });
          return reply.code(201).send(summary);
        } catch (e) {
          if (e instanceof UploadTooLarge) throw httpError(413, e.message);
          throw e;
        }
      },
    );
  });
  app.get('/api/v1/audit/imports', { config: { scope: 'read' }, schema: { response: { 200: jsonSchema(z.array(Dataset)), ...problemResponses() } } }, async (req) => listImports(ctx(req)));
  app.delete('/api/v1/audit/imports/:name', { config: { scope: 'admin' }, schema: { params: jsonSchemaOf(NameParams), response: { 200: jsonSchema(z.looseObject({ messages: z.number().int(), reportRows: z.number().int() })), ...problemResponses(400, 404) } } }, async (req) =>
    removeImport(ctx(req), parseInput(NameParams, req.params, 'params').name),
  );
  app.get('/api/v1/audit/plan', { config: { scope: 'read' }, schema: { querystring: jsonSchemaOf(PlanQuery), response: { 200: jsonSchema(Plan), ...problemResponses(400, 422) } } }, async (req, reply) => {
    const { format, ...q } = parseInput(PlanQuery, req.query, 'querystring');
    const plan = await auditPlan(ctx(req), q);
    if (format === 'json') return plan;
    const text = renderPlan(plan, format);
    reply.header('x-content-type-options', 'nosniff');
    if (format === 'html') return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(text);
    if (format === 'md') return reply.type('text/markdown; charset=utf-8').send(text);
    return reply.type('text/plain; charset=utf-8').header('content-disposition', 'attachment; filename="direct-send-plan.ps1"').send(text);
  });
}
