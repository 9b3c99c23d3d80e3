/**
 * @module api/routes/zod-io
 * How a route of this folder declares and reads its input with zod (api conventions): the zod
 * schema becomes the route's JSON schema (draft-07, the input side, for fastify's validation and
 * the OpenAPI document), and the handler parses the request with the same schema — anything it
 * refuses is a 400 problem naming the field. CSV responses share one shape (text/csv, attachment).
 * Touches: nothing.
 */
import { z } from 'zod';
import type { FastifyReply } from 'fastify';

/** The JSON schema of a zod schema, as fastify's validator and @fastify/swagger take it. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** An error fastify's problem handler renders as a 400 problem with `message`. */
function badRequest(message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode: 400 });
}

/** `value` parsed by `schema`; a 400 problem naming the first bad field otherwise. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw badRequest(`${where}${first && first.path.length ? '/' + first.path.join('/') : ''}: ${first?.message ?? 'invalid'}`);
}

/** Send CSV text (RFC 4180, formula-escaped by core/csv) as an attachment named `file`. */
export function sendCsv(reply: FastifyReply, text: string, file: string): FastifyReply {
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file.replace(/[^A-Za-z0-9._-]/g, '_')}"`).send(text);
}

/** A query flag: true/false (also 1/0, yes/no, on/off). */
export const queryBool = z.stringbool();

/** A positive row count. */
export const queryLimit = z.coerce.number().int().positive().max(100_000);

/** `?format=json|csv` of a listing or report (JSON by default). */
export const tableFormat = z.enum(['json', 'csv']).default('json');
