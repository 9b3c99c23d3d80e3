/**
 * @module deliver/oauth2
 * OAuth 2.0 for submitting to Exchange Online with SASL XOAUTH2 (Basic authentication for SMTP
 * AUTH is off by default from the end of December 2026, MC786329): an access token from the
 * Microsoft identity platform's client-credentials grant (RFC 6749 §4.4; Microsoft "Authenticate
 * an IMAP, POP or SMTP connection using OAuth", scope https://outlook.office365.com/.default),
 * cached per client until a minute before it expires, fetched once for concurrent callers, and
 * renewed once when the server refuses it (a 535, as Exchange answers, or nodemailer's retry after
 * a 334 error challenge). nodemailer's `provisionCallback` hook hands the token to each connection.
 * Touches: HTTPS (or loopback HTTP in tests) to the token endpoint; reads the client secret file.
 */
import { readFile } from 'node:fs/promises';
import type { Route } from '../config/schema.ts';

export type RouteOAuth2 = NonNullable<Route['oauth2']>;

/** A token, and when it stops being usable (ms since the epoch). */
export interface AccessToken {
  accessToken: string;
  expires: number;
}

/** Renew this long before the endpoint's expiry, so a token is never sent as it expires. */
const EARLY_MS = 60_000;

export const DEFAULT_SCOPE = 'https://outlook.office365.com/.default';

/** The Microsoft identity platform v2.0 token endpoint of a tenant, unless the route names another. */
export function tokenEndpoint(o: RouteOAuth2): string {
  return o.tokenEndpoint ?? `https://login.microsoftonline.com/${encodeURIComponent(o.tenantId)}/oauth2/v2.0/token`;
}

async function clientSecret(o: RouteOAuth2): Promise<string> {
  if (o.clientSecret !== undefined) return o.clientSecret;
  if (o.clientSecretFile === undefined) throw new Error('no clientSecret or clientSecretFile');
  return (await readFile(o.clientSecretFile, 'utf8')).trim();
}

/** Printable excerpt of an endpoint's answer (control characters dropped, bounded). */
function excerpt(s: string): string {
  return s.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 300);
}

/** One client-credentials request. Throws with the endpoint's `error` and `error_description`. */
export async function requestToken(o: RouteOAuth2, now: () => number = Date.now): Promise<AccessToken> {
  const url = tokenEndpoint(o);
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: await clientSecret(o), scope: o.scope });
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new Error(`OAuth2 token endpoint ${url} unreachable: ${(e as Error).message}`);
  }
  const text = await res.text();
  let json: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // not JSON: reported below with the status
  }
  if (!res.ok || typeof json.access_token !== 'string') {
    const why = typeof json.error === 'string' ? `${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description}` : ''}` : excerpt(text);
    throw new Error(`OAuth2 token request to ${url} failed (HTTP ${res.status}): ${excerpt(why)}`);
  }
  const ttl = Number(json.expires_in);
  return { accessToken: json.access_token, expires: now() + (Number.isFinite(ttl) && ttl > 0 ? ttl * 1000 : 3_600_000) };
}

function cacheKey(o: RouteOAuth2): string {
  return JSON.stringify([tokenEndpoint(o), o.clientId, o.scope, o.clientSecretFile ?? '']);
}

/** Tokens per OAuth client (tenant, client, scope, endpoint), shared by every pool of the process. */
export class TokenCache {
  private readonly tokens = new Map<string, Promise<AccessToken>>();
  /** Token requests made (for tests and metrics). */
  requests = 0;

  constructor(private readonly fetchToken: (o: RouteOAuth2) => Promise<AccessToken> = requestToken, private readonly now: () => number = Date.now) {}

  /** A usable token; `renew` fetches a new one (nodemailer asks after a 334 XOAUTH2 error challenge). */
  async get(o: RouteOAuth2, renew = false): Promise<AccessToken> {
    const k = cacheKey(o);
    const hit = this.tokens.get(k);
    if (hit && !renew) {
      const t = await hit.catch(() => undefined);
      if (t && t.expires - EARLY_MS > this.now()) return t;
      if (this.tokens.get(k) !== hit) return this.get(o); // another caller is already fetching
    }
    this.requests++;
    const p = this.fetchToken(o);
    this.tokens.set(k, p);
    p.catch(() => this.tokens.get(k) === p && this.tokens.delete(k));
    return p;
  }

  /** Forget the token of this client (the server refused it). */
  invalidate(o: RouteOAuth2): void {
    this.tokens.delete(cacheKey(o));
  }

  /** nodemailer's `auth` for a route: XOAUTH2 as the mailbox, tokens from this cache. */
  nodemailerAuth(o: RouteOAuth2): { type: 'OAuth2'; user: string; provisionCallback: ProvisionCallback } {
    return {
      type: 'OAuth2',
      user: o.user,
      provisionCallback: (_user, renew, cb) => {
        this.get(o, renew).then((t) => cb(null, t.accessToken, t.expires), (e: Error) => cb(e));
      },
    };
  }
}

/** nodemailer's XOAUTH2 token hook: (user, renew, callback(err, accessToken, expiresMs)). */
export type ProvisionCallback = (user: string, renew: boolean, cb: (err: Error | null, accessToken?: string, expires?: number) => void) => void;

/** A 535 to AUTH XOAUTH2 (Exchange Online answers `535 5.7.3 Authentication unsuccessful` for a revoked or stale token). */
function isAuthRefusal(e: unknown): boolean {
  const f = e as { code?: unknown; responseCode?: unknown } | null;
  return f?.code === 'EAUTH' && f.responseCode === 535;
}

/**
 * Run one send; when the route uses OAuth2 and the server refused the token with 535, drop the
 * cached token and try once more with a fresh one (a second refusal is the caller's to report).
 */
export async function renewOn535<T>(tokens: TokenCache, o: RouteOAuth2 | undefined, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (e) {
    if (!o || !isAuthRefusal(e)) throw e;
    tokens.invalidate(o);
    return attempt();
  }
}
