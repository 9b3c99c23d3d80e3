/**
 * @module daemon/receiver
 * Starts one listener per receive connector of the current config, with TLS material (configured,
 * or the self-signed certificate generated in the data dir), and keeps the set in step with the
 * config: a new version whose listener settings changed (bind, port, role, TLS) starts the new
 * listener and closes the old one gracefully (open sessions finish; nothing is dropped). Policy
 * changes need no restart at all: handlers read the snapshot in force for every command.
 * Touches: listening sockets, TLS files.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ReceiveConnector } from '../config/schema.ts';
import { ensureSelfSigned } from '../smtp/certs.ts';
import { loadTls, startListener, type RunningListener } from '../smtp/listener.ts';
import type { SmtpDeps } from '../smtp/deps.ts';
import type { Runtime } from './runtime.ts';
import { listenerStartError } from './startup.ts';

export interface Receiver {
  listeners(): RunningListener[];
  /** SMTP sessions open on every listener of this process. */
  openSessions(): number;
  close(): Promise<void>;
}

async function startOne(rt: Runtime, deps: SmtpDeps, l: ReceiveConnector): Promise<RunningListener> {
  const fallback = l.tls.mode === 'none' ? undefined : ensureSelfSigned(rt.paths.dir, rt.hostname());
  const tls = l.tls.mode === 'none' || !fallback ? undefined : loadTls(l, fallback);
  return startListener(l, deps, tls);
}

/** Start the receive connectors (all, or none: a StartupError names the one that failed) and follow config changes. */
export async function startReceiver(rt: Runtime, deps: SmtpDeps): Promise<Receiver> {
  const running = new Map<string, { cfg: ReceiveConnector; l: RunningListener }>();
  /** Listeners replaced by a config change whose open sessions are still finishing. */
  const draining = new Set<RunningListener>();
  for (const l of rt.snapshot().config.receiveConnectors) {
    try {
      running.set(l.name, { cfg: l, l: await startOne(rt, deps, l) });
    } catch (err) {
      // All or nothing: close the ones already listening, say which one failed.
      await Promise.all([...running.values()].map((r) => r.l.close()));
      throw listenerStartError(l, err);
    }
  }
  let chain = Promise.resolve();
  rt.onChange((s) => {
    chain = chain.then(async () => {
      const wanted = new Map(s.config.receiveConnectors.map((l) => [l.name, l] as const));
      for (const [name, cur] of running) {
        const next = wanted.get(name);
        if (next && isDeepStrictEqual(listenerIdentity(next), listenerIdentity(cur.cfg))) continue;
        running.delete(name);
        draining.add(cur.l);
        await cur.l.close().finally(() => draining.delete(cur.l));
      }
      for (const [name, l] of wanted) {
        if (running.has(name)) continue;
        try {
          running.set(name, { cfg: l, l: await startOne(rt, deps, l) });
        } catch (err) {
          rt.logger.error({ listener: name, reason: listenerStartError(l, err).message }, 'could not start listener');
        }
      }
    });
  });
  return {
    listeners: () => [...running.values()].map((r) => r.l),
    openSessions: () => {
      let n = 0;
      for (const r of running.values()) n += r.l.handlers.sessions.size;
      for (const l of draining) n += l.handlers.sessions.size;
      return n;
    },
    async close() {
      await chain;
      await Promise.all([...running.values()].map((r) => r.l.close()));
      running.clear();
    },
  };
}

/** The settings that need a new socket or TLS context when they change. */
function listenerIdentity(l: ReceiveConnector): unknown {
  return { bind: l.bind, port: l.port, tls: l.tls, maxConnections: l.maxConnections, idle: l.idleTimeoutSeconds, size: l.maxMessageSize, role: l.role, allowAuth: l.allowAuth };
}
