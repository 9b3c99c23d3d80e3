/**
 * @module daemon/admin-listener
 * The admin listener of `mailgate serve` (`admin.bind`, default 127.0.0.1:8025): the admin API,
 * the web console's files (dist/web) and what later routes add, served from the queue owner process. Plain HTTP only on loopback;
 * anywhere else HTTPS with the configured certificate or the data dir's self-signed one, the
 * same machinery as the SMTP listeners. A bind that fails fails the start (daemon/startup).
 * Touches: one TCP listener; reads the certificate files.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AdminSettings } from '../config/index.ts';
import type { TraceStore } from '../trace/index.ts';
import { buildApi } from '../api/build.ts';
import { EXPOSITION_CONTENT_TYPE } from '../metrics/index.ts';
import type { ApiDeps } from '../api/deps.ts';
import { ensureSelfSigned } from '../smtp/certs.ts';
import { formatReply } from '../smtp/replies.ts';
import { releaseVersion } from './release.ts';
import { adminStartError } from './startup.ts';
import { ensureFirstLogin } from '../ops/console-login.ts';
import type { Runtime } from './runtime.ts';
import { pgTraceStore } from '../stores/postgres/trace-store.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';

export interface AdminListener {
  /** The address it listens on, e.g. "http://127.0.0.1:8025". */
  url: string;
  close(): Promise<void>;
}

/** Host and port of `admin.bind` ("[::1]:8025" → "::1", 8025). */
export function parseBind(bind: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(bind);
  if (!m) throw new Error(`admin.bind ${bind}: not address:port`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

/** True for 127.0.0.0/8, ::1 and localhost: the only places plain HTTP is served. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Who may scrape /metrics: anyone on a loopback listener or with `metrics.public`, else a read token. */
export function metricsScopeFor(cfg: { admin: AdminSettings; metrics: { public: boolean } }): 'public' | 'read' {
  return isLoopback(parseBind(cfg.admin.bind).host) || cfg.metrics.public ? 'public' : 'read';
}

/**
 * The built web console: MAILGATE_WEB_DIR when set (the browser tests build into a temp dir),
 * else dist/web at the package root, found the same way from src/ (tsx) and from dist/ (both two
 * levels below the root); api/routes/console says to build it when absent.
 */
export function consoleDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MAILGATE_WEB_DIR || fileURLToPath(new URL('../../dist/web', import.meta.url));
}

/** The trace ops/ reads in a gateway process: the fleet's shared trace on a fleet node, else the SQLite adapter over the runtime's handle (which it never closes). */
export function opsTrace(rt: Runtime): TraceStore {
  const b = rt.backing;
  return b.bootstrap.kind === 'postgres' && b.pool ? pgTraceStore({ pool: b.pool, schema: b.bootstrap.schema, node: rt.node, url: b.bootstrap.url }) : sqliteTraceStore(rt.db);
}

/** The API's dependencies in a gateway process; `scrape`: the merged Prometheus exposition (serve.ts). */
export function apiDeps(rt: Runtime, scrape?: () => Promise<string>): ApiDeps {
  const metricsScope = metricsScopeFor(rt.snapshot().config);
  const trace = opsTrace(rt);
  return {
    metrics: scrape ? { scrape, contentType: EXPOSITION_CONTENT_TYPE, scope: metricsScope } : undefined,
    logger: rt.logger.child({ component: 'admin' }),
    ops: (actor) => ({ db: rt.db, store: rt.store, nodes: rt.backing.nodes, node: trace.kind === 'postgres' ? rt.node : undefined, dataDir: rt.paths.dir, actor, trace, alerts: rt.backing.alerts }),
    version: releaseVersion(),
    configVersion: () => rt.snapshot().version,
    replyText: (key, vars) => formatReply(key, vars),
    webDir: consoleDir(),
  };
}

/** Start the admin listener, or nothing when `admin.enabled` is false. */
export async function startAdminListener(rt: Runtime, deps: ApiDeps = apiDeps(rt)): Promise<AdminListener | undefined> {
  const settings: AdminSettings = rt.snapshot().config.admin;
  if (!settings.enabled) return undefined;
  const { host, port } = parseBind(settings.bind);
  const https = tlsFor(rt, settings, host);
  const app: FastifyInstance = await buildApi(deps, https ? { https } : {});
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    throw adminStartError(settings.bind, err);
  }
  const url = `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  rt.logger.info({ url }, 'admin listener ready');
  await firstLogin(rt, deps, url);
  return { url, close: () => app.close() };
}

/** No one can log in yet: make the first-login token and say where the console and its secret are (never the secret). */
async function firstLogin(rt: Runtime, deps: ApiDeps, url: string): Promise<void> {
  try {
    const file = await ensureFirstLogin(deps.ops('mailgate serve'));
    if (file) rt.logger.info({ console: `${url}/`, tokenFile: file }, `web console: open ${url}/ and log in with the token in ${file}`);
  } catch (err) {
    rt.logger.warn({ err }, 'web console: could not create the first-login token (mailgate token add NAME --scope admin makes one)');
  }
}

function tlsFor(rt: Runtime, s: AdminSettings, host: string): { key: Buffer; cert: Buffer } | undefined {
  if (s.certFile !== undefined && s.keyFile !== undefined) return { cert: readFileSync(s.certFile), key: readFileSync(s.keyFile) };
  if (isLoopback(host)) return undefined;
  const own = ensureSelfSigned(rt.paths.dir, rt.hostname());
  return { cert: readFileSync(own.certFile), key: readFileSync(own.keyFile) };
}
