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
});

/** The error responses every token-guarded route may give (401, 403, 429) plus `extra`. */
export function problemResponses(...statuses: number[]): Record<number, Record<string, unknown>> {
  const p = jsonSchema(ProblemSchema);
  return Object.fromEntries([401, 403, 429, ...statuses].map((s) => [s, p]));
}
