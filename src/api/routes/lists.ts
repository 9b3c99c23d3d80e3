/**
 * @module api/routes/lists
 * The allow and block lists through ops/lists, as `mailgate list` does: `GET /api/v1/lists/:list`
 * (read); `POST /api/v1/lists/:list/entries` (admin; blocking an accepted domain needs `force`,
 * and then answers with the warnings) and `DELETE /api/v1/lists/:list/entries?entries=a,b`
 * (admin; a CIDR's "/" does not fit a path segment, so entries travel in the query).
 * Touches: the config store (through ops/lists).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addListEntries, LIST_NAMES, removeListEntries, showList } from '../../ops/lists.ts';
import type { ApiDeps } from '../deps.ts';
import { actorOf } from '../scope.ts';
import { ChangedSchema, jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Params = z.object({ list: z.enum(LIST_NAMES) });
const Row = z.object({ kind: z.enum(['ip', 'senderDomain']), entry: z.string() });
const AddBody = z
  .object({
    entries: z.array(z.string().min(1).max(300)).min(1).max(10_000).describe('IPs, CIDRs, domains or *.domains'),
    force: z.boolean().optional().describe('block even an accepted domain (refuses every sender in it, authenticated users too)'),
    comment: z.string().max(500).optional().describe('why (recorded in config history)'),
  })
  .strict();
const Added = ChangedSchema.extend({ added: z.number().int(), warnings: z.array(z.string()) });
const RemoveQuery = z.object({ entries: z.string().min(1).max(100_000).describe('comma-separated entries to remove') }).strict();

export function listsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/api/v1/lists/:list',
    { config: { scope: 'read' }, schema: { summary: 'the allow or block list (IPs/CIDRs and sender domains)', params: jsonSchema(Params, 'input'), response: { 200: jsonSchema(z.array(Row)), ...problemResponses(400) } } },
    async (req) => showList(deps.ops(actorOf(req)), parseInput(Params, req.params).list),
  );
  app.post(
    '/api/v1/lists/:list/entries',
    {
      config: { scope: 'admin' },
      schema: { summary: 'add entries to the allow or block list', params: jsonSchema(Params, 'input'), body: jsonSchema(AddBody, 'input'), response: { 200: jsonSchema(Added), ...problemResponses(400, 422) } },
    },
    async (req) => {
      const { list } = parseInput(Params, req.params);
      const { entries, ...o } = parseInput(AddBody, req.body);
      return addListEntries(deps.ops(actorOf(req)), list, entries, { ...o, ...(deps.replyText ? { replyText: deps.replyText } : {}) });
    },
  );
  app.delete(
    '/api/v1/lists/:list/entries',
    {
      config: { scope: 'admin' },
      schema: { summary: 'remove entries from the allow or block list', params: jsonSchema(Params, 'input'), querystring: jsonSchema(RemoveQuery, 'input'), response: { 200: jsonSchema(ChangedSchema), ...problemResponses(400, 404, 422) } },
    },
    async (req) => {
      const { list } = parseInput(Params, req.params);
      const entries = parseInput(RemoveQuery, req.query).entries.split(',').map((e) => e.trim()).filter((e) => e !== '');
      return removeListEntries(deps.ops(actorOf(req)), list, entries);
    },
  );
}
