/**
 * @module daemon/startup
 * A gateway either starts whole or not at all: a receive connector that cannot listen (port
 * taken, address not on this host, no permission) stops `serve` with one line naming it and exit
 * code 1, after closing what had started — never a half-started gateway logging "ready".
 * With receive workers, each worker reports its start to the primary over the cluster channel;
 * the primary logs "ready" only when every worker listens, and stops everything on the first
 * failure.
 * Touches: cluster IPC messages of its own shape ({ mailgateStartup }).
 */
import type { Worker } from 'node:cluster';
import type { ReceiveConnector } from '../config/schema.ts';

/** The gateway could not start; `message` is the one line shown to the admin. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'address already in use (another process, or another mailgate, listens there)',
  EADDRNOTAVAIL: 'address not available on this host',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
};

function whyNot(err: unknown): string {
  const code = (err as { code?: string } | undefined)?.code;
  const why = (code && WHY[code]) ?? (err instanceof Error ? err.message : String(err));
  return `${why}${code && WHY[code] ? ` (${code})` : ''}`;
}

/** The one line for a listener that failed to listen. */
export function listenerStartError(l: Pick<ReceiveConnector, 'name' | 'bind' | 'port'>, err: unknown): StartupError {
  return new StartupError(`receive connector "${l.name}" cannot listen on ${l.bind}:${l.port}: ${whyNot(err)}`);
}

/** The one line for an admin listener that failed to listen. */
export function adminStartError(bind: string, err: unknown): StartupError {
  return new StartupError(`admin listener cannot listen on ${bind}: ${whyNot(err)}; set admin.bind or admin.enabled: false`);
}

interface StartupMessage {
  mailgateStartup: { ok: true } | { ok: false; message: string };
}

function isStartup(m: unknown): m is StartupMessage {
  return typeof m === 'object' && m !== null && 'mailgateStartup' in m;
}

/** Worker side: tell the primary whether every listener of this worker started. */
export function reportStartup(err?: unknown): Promise<void> {
  const msg: StartupMessage = { mailgateStartup: err === undefined ? { ok: true } : { ok: false, message: err instanceof Error ? err.message : String(err) } };
  return new Promise((resolve) => (process.send ? process.send(msg, undefined, {}, () => resolve()) : resolve()));
}

/**
 * Primary side: resolves when `count` workers reported a start, rejects with the first failure
 * (or a worker that exits before reporting).
 */
export function awaitWorkersStarted(workers: readonly Worker[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = 0;
    for (const w of workers) {
      const onExit = (code: number | null): void => reject(new StartupError(`a receive worker exited with code ${code ?? 'null'} while starting`));
      w.once('exit', onExit);
      w.on('message', (m: unknown) => {
        if (!isStartup(m)) return;
        w.off('exit', onExit);
        if (!m.mailgateStartup.ok) return reject(new StartupError(m.mailgateStartup.message));
        if (++started === workers.length) resolve();
      });
    }
  });
}
