/**
 * @module api/routes/config
 * The whole configuration over the admin API, calling ops/config as `mailgate config` does:
 * `GET /api/v1/config` (in force, `?version=N`, `?changed=true`), `GET /api/v1/config/defaults`,
 * `GET /api/v1/config/history`, `GET /api/v1/config/diff`, `POST /api/v1/config/validate`
 * (read), `POST /api/v1/config` (apply YAML), `POST /api/v1/config/rollback` and
 * `PUT /api/v1/config/sections/:section` (one section as JSON, made on `baseVersion`: 409 when
 * another change landed since; `dryRun` answers the diff) (admin), each change recorded with the
 * token's name. Secrets leave masked; validation errors carry their paths (api/problem `errors`).
 * Touches: the config store (through ops/config).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CONFIG_SECTIONS, editSection } from '../../ops/config-section.ts';
import { applyConfig, configDefaults, configDiff, configHistory, rollbackConfig, showConfig, validateConfigText } from '../../ops/config.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, ChangeOptions, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Version = z.coerce.number().int().positive();
const ShowQuery = z.object({ version: Version.optional(), changed: z.enum(['true', 'false']).optional() });
const Shown = z.object({ version: z.number().int(), createdAt: z.number(), actor: z.string(), comment: z.string(), config: z.record(z.string(), z.unknown()) });
const HistoryQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() });
const History = z.array(z.object({ version: z.number().int(), createdAt: z.number(), actor: z.string(), comment: z.string(), changes: z.string() }));
const DiffQuery = z.object({ from: Version.optional(), to: Version.optional() });
const Diff = z.object({ from: z.number().int(), to: z.number().int(), diff: z.string() });
const YamlBody = z.object({ yaml: z.string().max(4 * 1024 * 1024).describe('the whole configuration as YAML') });
const ApplyBody = YamlBody.extend(ChangeOptions.shape).extend({
  baseVersion: z.number().int().nonnegative().optional().describe('the version the file was made from: refused (409) when another has been saved since'),
});
const Validated = z.object({ summary: z.string(), warnings: z.array(z.string()), incomplete: z.array(z.string()) });
const Applied = ChangedSchema.extend({ summary: z.string(), warnings: z.array(z.string()) });
const RollbackBody = ChangeOptions.extend({ version: z.number().int().positive() });

const SectionParams = z.object({ section: z.enum(CONFIG_SECTIONS) });
const SectionBody = ChangeOptions.extend({
  value: z.unknown().describe('the section\'s new value, in the shape GET /api/v1/config shows it'),
  baseVersion: z.number().int().positive().describe('the version the edit was made on'),
  dryRun: z.boolean().optional().describe('validate and answer the diff without saving'),
}).strict();
const SectionEdited = z.object({ version: z.number().int(), applied: z.boolean(), diff: z.string(), warnings: z.array(z.string()) });

const SOURCE = 'request';

export function configRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/api/v1/config',
    { config: { scope: 'read' }, schema: { summary: 'the configuration in force (or ?version=N; ?changed=true: only non-defaults), secrets masked', querystring: jsonSchema(ShowQuery, 'input'), response: { 200: jsonSchema(Shown), ...problemResponses(404) } } },
    async (req) => {
      const q = parseInput(ShowQuery, req.query);
      return showConfig(deps.ops(actorOf(req)), { ...(q.version !== undefined ? { version: q.version } : {}), changed: q.changed === 'true' });
    },
  );
  app.get('/api/v1/config/defaults', { config: { scope: 'read' }, schema: { summary: 'the built-in default of every setting', response: { 200: jsonSchema(z.record(z.string(), z.unknown())), ...problemResponses() } } }, async () =>
    configDefaults(),
  );
  app.get(
    '/api/v1/config/history',
    { config: { scope: 'read' }, schema: { summary: 'configuration versions, newest first: who, when, why, what changed', querystring: jsonSchema(HistoryQuery, 'input'), response: { 200: jsonSchema(History), ...problemResponses() } } },
    async (req) => configHistory(deps.ops(actorOf(req)), parseInput(HistoryQuery, req.query).limit ?? 20),
  );
  app.get(
    '/api/v1/config/diff',
    { config: { scope: 'read' }, schema: { summary: 'YAML diff of two versions (default: the previous and the one in force), secrets masked', querystring: jsonSchema(DiffQuery, 'input'), response: { 200: jsonSchema(Diff), ...problemResponses(404, 422) } } },
    async (req) => {
      const q = parseInput(DiffQuery, req.query);
      return configDiff(deps.ops(actorOf(req)), { ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}) });
    },
  );
  app.post(
    '/api/v1/config/validate',
    { config: { scope: 'read' }, schema: { summary: 'check a configuration without applying it', body: jsonSchema(YamlBody, 'input'), response: { 200: jsonSchema(Validated), ...problemResponses(400, 422) } } },
    async (req) => {
      const { summary, warnings, incomplete } = validateConfigText(parseInput(YamlBody, req.body).yaml, SOURCE);
      return { summary, warnings, incomplete };
    },
  );
  app.post(
    '/api/v1/config',
    { config: { scope: 'admin' }, schema: { summary: 'apply a whole configuration (all or nothing) as a new version', body: jsonSchema(ApplyBody, 'input'), response: { 200: jsonSchema(Applied), ...problemResponses(400, 409, 422) } } },
    async (req) => {
      const b = parseInput(ApplyBody, req.body);
      return applyConfig(deps.ops(actorOf(req)), {
        text: b.yaml,
        source: SOURCE,
        comment: b.comment ?? 'config apply (admin API)',
        ...(b.force !== undefined ? { force: b.force } : {}),
        ...(b.baseVersion !== undefined ? { baseVersion: b.baseVersion } : {}),
      });
    },
  );
  app.post(
    '/api/v1/config/rollback',
    { config: { scope: 'admin' }, schema: { summary: 'make a new version equal to an older one', body: jsonSchema(RollbackBody, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 404, 409, 422) } } },
    async (req) => {
      const { version, ...opts } = parseInput(RollbackBody, req.body);
      return rollbackConfig(deps.ops(actorOf(req)), version, opts);
    },
  );
  app.put(
    '/api/v1/config/sections/:section',
    { config: { scope: 'admin' }, schema: { summary: 'replace one section of the configuration (validated whole; made on baseVersion)', params: jsonSchema(SectionParams, 'input'), body: jsonSchema(SectionBody, 'input'), response: { 200: jsonSchema(SectionEdited), ...problemResponses(400, 409, 422) } } },
    async (req) => {
      const { section } = parseInput(SectionParams, req.params);
      const b = parseInput(SectionBody, req.body);
      return editSection(deps.ops(actorOf(req)), { section, value: b.value, baseVersion: b.baseVersion, comment: b.comment, force: b.force, dryRun: b.dryRun });
    },
  );
}
