/**
 * @module smtp/listener
 * One smtp-server instance per receive connector (mx, relay, submission): TLS (STARTTLS or
 * implicit, client certificate requested but verified by us, not by the handshake), AUTH PLAIN /
 * LOGIN only after TLS and only where the listener allows it (`allowAuth`: off by default on an
 * mx listener, where AUTH is then neither advertised nor accepted), SIZE advertised, idle timeout, connection limit, no reverse DNS at connect
 * (it is slow and the policy never uses it).
 * smtp-server's defaults accept everything; every handler here is ours, so nothing is accepted
 * that the policy did not pass.
 * Touches: the network (listening sockets), TLS key material files.
 * RFCs: 5321, 3207 (STARTTLS: pipelined commands after it are discarded by smtp-server),
 * 4954 (AUTH), 1870 (SIZE), 8314 (implicit TLS).
 */
import { readFileSync } from 'node:fs';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { ReceiveConnector } from '../config/schema.ts';
import type { SmtpDeps } from './deps.ts';
import { StageHandlers } from './handlers.ts';
import { onData } from './data.ts';
import { setGreetingDelay } from './greeting.ts';

export interface TlsMaterial {
  cert: string;
  key: string;
  ca?: string | undefined;
}

export interface RunningListener {
  name: string;
  server: SMTPServer;
  handlers: StageHandlers;
  /** The bound port (useful when the config says 0). */
  port(): number;
  close(): Promise<void>;
}

/** Read the TLS files a listener needs (certificate, key, client CAs). */
export function loadTls(l: ReceiveConnector, fallback: { certFile: string; keyFile: string }): TlsMaterial {
  return {
    cert: readFileSync(l.tls.certFile ?? fallback.certFile, 'utf8'),
    key: readFileSync(l.tls.keyFile ?? fallback.keyFile, 'utf8'),
    ca: l.tls.clientCaFile ? readFileSync(l.tls.clientCaFile, 'utf8') : undefined,
  };
}

/**
 * Whether the listener offers SMTP AUTH: `allowAuth`, else off for role mx (an internet MX has no
 * business taking passwords; a guessed one would make it an open relay) unless it requires AUTH.
 */
export function authAllowed(l: ReceiveConnector): boolean {
  return l.allowAuth ?? (l.role !== 'mx' || l.requireAuth === true);
}

function serverOptions(l: ReceiveConnector, deps: SmtpDeps, h: StageHandlers, tls: TlsMaterial | undefined): SMTPServerOptions {
  const useTls = l.tls.mode !== 'none' && tls !== undefined;
  const disabled = [...(useTls ? [] : ['STARTTLS']), ...(authAllowed(l) ? [] : ['AUTH'])];
  return {
    name: deps.hostname,
    banner: 'mailgate',
    secure: l.tls.mode === 'implicit' && useTls,
    disabledCommands: disabled,
    hideSTARTTLS: !useTls,
    ...(useTls ? { key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca } : {}) } : {}),
    requestCert: useTls && l.tls.requestClientCert,
    // The handshake never fails for an unknown client certificate: it is recorded, and it
    // matches a connector only if it verified (socket.authorized), which policy checks.
    rejectUnauthorized: false,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: false,
    size: l.maxMessageSize,
    disableReverseLookup: true,
    socketTimeout: l.idleTimeoutSeconds * 1000,
    closeTimeout: 5000,
    maxClients: Math.min(l.maxConnections, deps.maxConnectionsCap ?? Infinity),
    logger: false,
    onConnect: (s, cb) => h.onConnect(s, cb),
    onSecure: (sock, s, cb) => h.onSecure(sock, s, cb),
    onAuth: (a, s, cb) => h.onAuth(a, s, cb),
    onMailFrom: (a, s, cb) => h.onMailFrom(a, s, cb),
    onRcptTo: (a, s, cb) => h.onRcptTo(a, s, cb),
    onData: (stream, s, cb) => onData(h, stream, s, cb),
    onClose: (s) => h.onClose(s),
  };
}

/** Errors a client causes (it went away, spoke no TLS): routine, logged at debug without a stack. */
const CLIENT_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ERR_STREAM_PREMATURE_CLOSE']);

function logConnectionError(deps: SmtpDeps, listener: string, err: Error & { code?: string; remoteAddress?: string }): void {
  const code = err.code ?? '';
  if (CLIENT_ERRORS.has(code) || code.startsWith('ERR_SSL_')) {
    deps.logger.debug({ listener, ip: err.remoteAddress, code, reason: err.message }, 'client connection error');
    return;
  }
  deps.logger.warn({ err, listener }, 'listener error');
}

/** Start one receive connector. Resolves once it is listening; rejects with the listen error. */
export async function startListener(l: ReceiveConnector, deps: SmtpDeps, tls: TlsMaterial | undefined): Promise<RunningListener> {
  const h = new StageHandlers(deps, l);
  const server = new SMTPServer(serverOptions(l, deps, h, tls));
  setGreetingDelay(server, l.greetingDelayMs);
  await new Promise<void>((resolve, reject) => {
    // smtp-server re-emits the listen error too: until listening, it is the caller's to report.
    const onErr = (err: Error): void => reject(err);
    server.once('error', onErr);
    server.listen(l.port, l.bind, () => {
      server.off('error', onErr);
      resolve();
    });
  });
  server.on('error', (err) => logConnectionError(deps, l.name, err));
  deps.logger.info({ listener: l.name, bind: l.bind, port: l.port, role: l.role, tls: l.tls.mode, auth: authAllowed(l) }, 'listening');
  return {
    name: l.name,
    server,
    handlers: h,
    port: () => {
      const a = server.server.address();
      return typeof a === 'object' && a ? a.port : l.port;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
