/**
 * @module api/problem
 * Errors in one shape, RFC 9457 problem details (`application/problem+json`), with the same message
 * the CLI prints: an OpsError maps by kind to its status, a ConfigError (a change that does not
 * validate) to 422 with its `path: reason` lines and, as the extension member `errors`, each
 * `{ path, reason }` (the console shows each beside its field); fastify's own errors (bad JSON, a schema
 * refusal, 404) keep their status; anything else is a 500 whose detail is not shown (it is logged).
 * Touches: nothing.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { OpsError, type OpsErrorKind } from '../ops/errors.ts';
import { ConfigError, ConfigErrors, configErrorLines, StoreUnavailableError } from '../config/index.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** A configuration that does not validate: every error with the path of its field. */
  errors?: { path: string; reason: string }[];
}

const STATUS: Record<OpsErrorKind, number> = { 'not-found': 404, conflict: 409, invalid: 422, forbidden: 403, unavailable: 503 };

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A problem document for `status` with `detail`. */
export function problem(status: number, detail?: string, instance?: string): Problem {
  return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, ...(detail !== undefined ? { detail } : {}), ...(instance ? { instance } : {}) };
}

/** Send `p` as application/problem+json. */
export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json; charset=utf-8').send(p);
}

/** fastify's error handler: every error leaves as a problem document. */
export function problemHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof OpsError) return sendProblem(reply, problem(STATUS[err.kind], err.message, req.url));
  // A fleet's PostgreSQL away: try again later (the gateway itself runs on the version in force).
  if (err instanceof StoreUnavailableError) return sendProblem(reply, problem(503, err.message, req.url));
  // A configuration that does not validate: every `path: reason` line the CLI prints, one per line.
  if (err instanceof ConfigError) {
    const errors = (err instanceof ConfigErrors ? err.errors : [err]).map((e) => ({ path: e.path, reason: e.reason }));
    return sendProblem(reply, { ...problem(422, configErrorLines(err).join('\n'), req.url), errors });
  }
  const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 500) {
    req.log.error({ err }, 'admin API request failed');
    return sendProblem(reply, problem(status, undefined, req.url));
  }
  return sendProblem(reply, problem(status, err.message, req.url));
}
