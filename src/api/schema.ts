/**
 * @module api/schema
 * zod schemas as the JSON Schema fastify validates and serialises with and @fastify/swagger
 * documents: zod 4's own `z.toJSONSchema()` (draft 7, which fastify's ajv speaks; no `$schema`
 * key, which the OpenAPI document must not carry per operation). The problem document's schema is
 * shared by every route's error responses.
 * Touches: nothing.
 */
import { z } from 'zod';

/** The JSON Schema of `schema`, for a route's querystring, params, body or response. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** RFC 9457 problem details, as api/problem sends them. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), reason: z.string() })).optional().describe('a configuration that does not validate: each error with its field\'s path'),
});

/** The error responses every token-guarded route may give (401, 403, 429) plus `extra`. */
export function problemResponses(...statuses: number[]): Record<number, Record<string, unknown>> {
  const p = jsonSchema(ProblemSchema);
  return Object.fromEntries([401, 403, 429, ...statuses].map((s) => [s, p]));
}

/** A configuration change's answer: the version in force after it. */
export const ChangedSchema = z.object({ version: z.number().int() });

/** The `comment` and `force` every configuration change takes. */
export const ChangeOptions = z.object({
  comment: z.string().max(500).optional().describe('why (recorded in config history)'),
  force: z.boolean().optional().describe('save even a configuration that would receive no mail'),
});

/** Parse `value` with `schema`; a mismatch is a 400 problem naming the first bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw Object.assign(new Error(`${where}${issue?.message ?? 'invalid input'}`), { statusCode: 400 });
}
