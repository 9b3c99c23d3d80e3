/**
 * @module config/secrets
 * Secrets in a configuration (a route's OAuth 2.0 client secret): masked when the configuration
 * is printed or exported, and a masked value in an applied file keeps the stored secret, so an
 * exported file applies back unchanged.
 * Touches: nothing (pure).
 */
import type { Config, Route } from './schema.ts';

/** What a secret is printed as. */
export const SECRET_MASK = '********';

/** A route with its OAuth2 client secret (if any) replaced by SECRET_MASK. */
export function maskRoute(r: Route): Route {
  return r.oauth2?.clientSecret === undefined ? r : { ...r, oauth2: { ...r.oauth2, clientSecret: SECRET_MASK } };
}

/** A copy of `config` with every secret replaced by SECRET_MASK. */
export function maskSecrets(config: Config): Config {
  return { ...config, routes: config.routes.map(maskRoute) };
}

/** `next` with each masked secret replaced by the stored one of the same-named route (left masked when there is none). */
export function keepMaskedSecrets(next: Config, stored: Config | undefined): Config {
  return {
    ...next,
    routes: next.routes.map((r) => {
      if (r.oauth2?.clientSecret !== SECRET_MASK) return r;
      const kept = stored?.routes.find((s) => s.name === r.name)?.oauth2?.clientSecret;
      return kept === undefined ? r : { ...r, oauth2: { ...r.oauth2, clientSecret: kept } };
    }),
  };
}
