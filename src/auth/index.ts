/**
 * @module auth
 * The public surface of auth/: SPF, DKIM, DMARC and ARC facts via mailauth with mailgate's own
 * caching resolver. auth/ evaluates; it never decides. Imports only core/ (and its own files).
 * Touches: DNS, through the resolver it creates or is given.
 * RFCs: 7208, 6376, 7489, 8617, 8601, 1035, 2308.
 */
export { authenticate, temperrorFacts } from './authenticate.ts';
export type { AuthInput, AuthDeps } from './authenticate.ts';
export { createResolver } from './resolver.ts';
export type { CachingResolver, DnsResolveFn, ResolverOptions, ResolverStats, TrackedResolver } from './resolver.ts';
export { checkSpf, SpfCache, type SpfDeps, type SpfInput, type SpfOutcome } from './spf.ts';
export { checkDmarc, DmarcCache, type DmarcDeps, type DmarcInput, type DmarcOutcome } from './dmarc.ts';
export { isOurAuthResults, renderAuthResults, defaultDmarcAction } from './auth-results.ts';
export type { DmarcAction, RenderOptions } from './auth-results.ts';
export { compauth, spoofSuspect } from './compauth.ts';
export type * from './types.ts';
export { explainSpf, type SpfExplanation } from './spf-explain.ts';
export { resolverFromSettings, type DnsSettings } from './configured.ts';
export { whatIfAuth, type WhatIfAuth, type WhatIfInput } from './what-if.ts';
