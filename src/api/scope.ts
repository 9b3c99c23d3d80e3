/**
 * @module api/scope
 * What a route needs of its caller, declared on the route (`config: { scope }`) and enforced by one
 * hook for every route: `public` (no token: health, a release-request link carrying its own
 * signed token), `read`, `operate` (queue and quarantine actions) and `admin` (configuration). A
 * scope includes the ones before it: admin ⊃ operate ⊃ read. The hook sets `request.actor` to the
 * token's name, recorded with every change the request makes.
 * Touches: nothing.
 */
import type { FastifyRequest } from 'fastify';

export type Scope = 'public' | 'read' | 'operate' | 'admin';

export const SCOPE_ORDER: readonly Scope[] = ['public', 'read', 'operate', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route: who may call it. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** Who is calling: the token's name once authenticated. */
    actor?: string;
  }
}

/** True when a token holding `held` may call a route needing `needed`. */
export function scopeCovers(held: Scope, needed: Scope): boolean {
  return SCOPE_ORDER.indexOf(held) >= SCOPE_ORDER.indexOf(needed);
}

/** The actor a request acts as: the token's name, or "anonymous" on a public route. */
export function actorOf(req: FastifyRequest): string {
  return req.actor ?? 'anonymous';
}
