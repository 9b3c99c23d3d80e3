/**
 * @module daemon/admin-listener
 * The admin listener of `mailgate serve` (`admin.bind`, default 127.0.0.1:8025): the admin API,
 * and what later routes add, served from the queue owner process. Plain HTTP only on loopback;
 * anywhere else HTTPS with the configured certificate or the data dir's self-signed one, the
 * same machinery as the SMTP listeners. A bind that fails fails the start (daemon/startup).
 * Touches: one TCP listener; reads the certificate files.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AdminSettings } from '../config/index.ts';
import { buildApi } from '../api/build.ts';
import { EXPOSITION_CONTENT_TYPE } from '../metrics/index.ts';
import type { ApiDeps } from '../api/deps.ts';
import { ensureSelfSigned } from '../smtp/certs.ts';
import { formatReply } from '../smtp/replies.ts';
import { releaseVersion } from './release.ts';
import { adminStartError } from './startup.ts';
import type { Runtime } from './runtime.ts';
import { pgTraceStore } from '../stores/postgres/trace-store.ts';

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

/** The API's dependencies in a gateway process; `scrape`: the merged Prometheus exposition (serve.ts). */
export function apiDeps(rt: Runtime, scrape?: () => Promise<string>): ApiDeps {
  const metricsScope = metricsScopeFor(rt.snapshot().config);
  const b = rt.backing;
  const fleet = b.bootstrap.kind === 'postgres' && b.pool ? pgTraceStore({ pool: b.pool, schema: b.bootstrap.schema, node: rt.node, url: b.bootstrap.url }) : undefined;
  return {
    metrics: scrape ? { scrape, contentType: EXPOSITION_CONTENT_TYPE, scope: metricsScope } : undefined,
    logger: rt.logger.child({ component: 'admin' }),
    ops: (actor) => ({ db: rt.db, store: rt.store, nodes: rt.backing.nodes, dataDir: rt.paths.dir, actor, trace: fleet }),
    version: releaseVersion(),
    configVersion: () => rt.snapshot().version,
    replyText: (key, vars) => formatReply(key, vars),
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
  return { url, close: () => app.close() };
}

function tlsFor(rt: Runtime, s: AdminSettings, host: string): { key: Buffer; cert: Buffer } | undefined {
  if (s.certFile !== undefined && s.keyFile !== undefined) return { cert: readFileSync(s.certFile), key: readFileSync(s.keyFile) };
  if (isLoopback(host)) return undefined;
  const own = ensureSelfSigned(rt.paths.dir, rt.hostname());
  return { cert: readFileSync(own.certFile), key: readFileSync(own.keyFile) };
}
