/**
 * @module ops/routes
 * Routes: where accepted mail goes (a pickup folder, an SMTP next hop, MX). List, show (with which
 * route wins for a sample of recipient domains), add (`replace` takes its domain patterns over
 * from the routes serving them), set, remove. OAuth2 settings are edited field by field (an empty
 * `oauth2User` removes them; the schema checks the set is complete). Secrets never leave: every
 * route returned has its client secret masked. Every change is a config version. Also the
 * Exchange Online side of a route (the connector to create in the tenant).
 * Touches: the config store of the context; reads a route's client certificate for its Exchange Online script.
 */
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { maskRoute, type Route } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { change, current, indexOfNamed, removeNamed, requireNamed, type Changed } from './model.ts';
import { exchangeFrontScript } from './exchange-front.ts';
import { precedenceRows, takeOverPatterns } from './route-precedence.ts';

export type RouteType = Route['type'];
export type RouteTls = Route['tls'];
export const ROUTE_TYPES: readonly RouteType[] = ['pickup', 'smtp', 'mx'];
export const ROUTE_TLS: readonly RouteTls[] = ['none', 'may', 'encrypt', 'verify', 'secure', 'opportunistic', 'required'];
const NOUN = 'route';

/** What add and set may change; for host and the client certificate files the empty string removes it. */
export interface RouteChange {
  type?: RouteType;
  domains?: string[];
  host?: string;
  port?: number;
  tls?: RouteTls;
  clientCertFile?: string;
  clientKeyFile?: string;
  pickupDir?: string;
  /** The XOAUTH2 mailbox; the empty string removes the OAuth2 settings. */
  oauth2User?: string;
  oauth2TenantId?: string;
  oauth2ClientId?: string;
  oauth2ClientSecretFile?: string;
  oauth2TokenEndpoint?: string;
}

/** A route with the domains it wins for among a sample (accepted domains, one per pattern, an outside one). */
export type RouteDetail = Route & { serves: Record<string, unknown>[] };

function applyOAuth2(r: Route, o: RouteChange): void {
  if (o.oauth2User === '') {
    delete r.oauth2;
    return;
  }
  const given = [o.oauth2User, o.oauth2TenantId, o.oauth2ClientId, o.oauth2ClientSecretFile, o.oauth2TokenEndpoint].some((v) => v !== undefined);
  if (!given) return;
  const cur = r.oauth2;
  const user = o.oauth2User ?? cur?.user;
  const tenantId = o.oauth2TenantId ?? cur?.tenantId;
  const clientId = o.oauth2ClientId ?? cur?.clientId;
  if (!user || !tenantId || !clientId) throw new OpsError('invalid', 'OAuth2 needs --oauth2-user, --oauth2-tenant and --oauth2-client-id');
  const next: NonNullable<Route['oauth2']> = { ...cur, user, tenantId, clientId, scope: cur?.scope ?? 'https://outlook.office365.com/.default' };
  if (o.oauth2ClientSecretFile !== undefined) {
    next.clientSecretFile = o.oauth2ClientSecretFile;
    delete next.clientSecret;
  }
  if (o.oauth2TokenEndpoint !== undefined) next.tokenEndpoint = o.oauth2TokenEndpoint;
  r.oauth2 = next;
}

function setOrClear<K extends 'host' | 'clientCertFile' | 'clientKeyFile'>(r: Route, key: K, value: string | undefined): void {
  if (value === undefined) return;
  if (value === '') delete r[key];
  else r[key] = value;
}

function applyChange(r: Route, o: RouteChange): void {
  if (o.type !== undefined) r.type = o.type;
  if (o.domains) {
    if (o.domains.length === 0) throw new OpsError('invalid', 'a route serves at least one domain ("*" = all)');
    r.domains = [...o.domains];
  }
  setOrClear(r, 'host', o.host);
  if (o.port !== undefined) r.port = o.port;
  if (o.tls !== undefined) r.tls = o.tls;
  setOrClear(r, 'clientCertFile', o.clientCertFile);
  setOrClear(r, 'clientKeyFile', o.clientKeyFile);
  if (o.pickupDir !== undefined) r.pickupDir = o.pickupDir;
  applyOAuth2(r, o);
  if ((r.clientCertFile === undefined) !== (r.clientKeyFile === undefined)) {
    throw new OpsError('invalid', '--client-cert and --client-key go together');
  }
}

/** Every route, secrets masked. */
export async function listRoutes(ctx: OpsContext): Promise<Route[]> {
  return (await current(ctx)).routes.map((r) => maskRoute({ ...r }));
}

/** Route `name`, secrets masked, with the sample domains it wins for. */
export async function showRoute(ctx: OpsContext, name: string): Promise<RouteDetail> {
  const cfg = await current(ctx);
  const r = requireNamed(cfg.routes, name, NOUN);
  return { ...maskRoute(r), serves: precedenceRows(cfg, r.name) };
}

/** Resolve a file named in the config: absolute, else relative to the working dir, else to the data dir. */
function resolveFile(file: string, dataDir: string): string {
  if (isAbsolute(file) || existsSync(file)) return file;
  return join(dataDir, file);
}

/** Subject CN (or first DNS SAN) of a PEM certificate file. */
export function certificateName(file: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(file));
  } catch (e) {
    throw new OpsError('invalid', `cannot read certificate ${file}: ${(e as Error).message}`);
  }
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1]?.trim();
  const san = /DNS:([^,\s]+)/.exec(cert.subjectAltName ?? '')?.[1];
  const name = cn ?? san;
  if (!name) throw new OpsError('invalid', `certificate ${file} has neither a subject CN nor a DNS name`);
  return name;
}

/**
 * The Exchange Online side of route `name` (ops/exchange-front): the connectors and cut-over
 * steps, the certificate connector named after the route's client certificate when it has one.
 */
export async function routeExchangeScript(ctx: OpsContext, name: string): Promise<{ route: string; script: string }> {
  const config = await current(ctx);
  const route = requireNamed(config.routes, name, NOUN);
  const certName = route.clientCertFile ? certificateName(resolveFile(route.clientCertFile, ctx.dataDir)) : undefined;
  return { route: route.name, script: exchangeFrontScript(route, config, certName ? { certName } : {}) };
}

/**
 * Add route `name` of `type` (default pickup); refused when the name is taken. With `replace` it
 * becomes the only route serving its patterns; `notes` says which routes lost them.
 */
export async function addRoute(ctx: OpsContext, name: string, input: RouteChange & { type: RouteType; replace?: boolean }): Promise<Changed & { notes: string[] }> {
  let notes: string[] = [];
  const r = (await change(ctx, `route add ${name}${input.replace ? ' --replace' : ''}`, (draft) => {
    if (indexOfNamed(draft.routes, name) >= 0) throw new OpsError('conflict', `route "${name}" already exists`);
    const route: Route = { name, domains: ['*'], type: input.type, port: 25, tls: 'may', pickupDir: 'pickup' };
    applyChange(route, input);
    draft.routes.push(route);
    if (input.replace) notes = takeOverPatterns(draft, route);
  }));
  return { ...r, notes };
}

/** Change route `name`. */
export async function setRoute(ctx: OpsContext, name: string, input: RouteChange): Promise<Changed> {
  return await change(ctx, `route set ${name}`, (draft) => applyChange(requireNamed(draft.routes, name, NOUN), input));
}

/** Remove route `name`. */
export async function removeRoute(ctx: OpsContext, name: string): Promise<Changed> {
  return removeNamed(ctx, name, { noun: NOUN, verb: 'route', list: (c) => c.routes });
}
