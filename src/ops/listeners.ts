/**
 * @module ops/listeners
 * Receive connectors (the SMTP listeners): bind address and port, role, TLS mode and files, AUTH,
 * scoped access, default deny and limits. Every change is a config version validated like any
 * other (two listeners on one address and port are refused); removing the last needs `force`.
 * A running gateway starts, restarts or closes the listener within a second.
 * Touches: the config store of the context.
 */
import { receiveConnectorSchema, type ReceiveConnector } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { change, current, indexOfNamed, removeNamed, requireNamed, type Changed } from './model.ts';

export const LISTENER_ROLES: readonly ReceiveConnector['role'][] = ['mx', 'relay', 'submission'];
export const TLS_MODES: readonly ReceiveConnector['tls']['mode'][] = ['starttls', 'implicit', 'none'];

/** What add and set may change; a file set to "" is removed (the generated certificate, the system CAs). */
export interface ListenerChange {
  bind?: string;
  port?: number;
  role?: ReceiveConnector['role'];
  tlsMode?: ReceiveConnector['tls']['mode'];
  certFile?: string;
  keyFile?: string;
  clientCaFile?: string;
  requireAuth?: boolean;
  remoteIPRanges?: string[];
  defaultDeny?: boolean;
  maxMessageSize?: number;
  maxConnections?: number;
  greetingDelayMs?: number;
}

function setFile(tls: ReceiveConnector['tls'], key: 'certFile' | 'keyFile' | 'clientCaFile', v: string | undefined): void {
  if (v === undefined) return;
  if (v === '') delete tls[key];
  else tls[key] = v;
}

function applyChange(l: ReceiveConnector, o: ListenerChange): void {
  if (o.bind !== undefined) l.bind = o.bind;
  if (o.port !== undefined) l.port = o.port;
  if (o.role !== undefined) l.role = o.role;
  if (o.tlsMode !== undefined) l.tls.mode = o.tlsMode;
  setFile(l.tls, 'certFile', o.certFile);
  setFile(l.tls, 'keyFile', o.keyFile);
  setFile(l.tls, 'clientCaFile', o.clientCaFile);
  if (o.requireAuth !== undefined) l.requireAuth = o.requireAuth;
  if (o.remoteIPRanges !== undefined) l.remoteIPRanges = [...o.remoteIPRanges];
  if (o.defaultDeny !== undefined) l.defaultDeny = o.defaultDeny;
  if (o.maxMessageSize !== undefined) l.maxMessageSize = o.maxMessageSize;
  if (o.maxConnections !== undefined) l.maxConnections = o.maxConnections;
  if (o.greetingDelayMs !== undefined) l.greetingDelayMs = o.greetingDelayMs;
}

/** Every receive connector. */
export async function listListeners(ctx: OpsContext): Promise<ReceiveConnector[]> {
  return (await current(ctx)).receiveConnectors.map((l) => structuredClone(l));
}

/** One receive connector by name. */
export async function showListener(ctx: OpsContext, name: string): Promise<ReceiveConnector> {
  return structuredClone(requireNamed((await current(ctx)).receiveConnectors, name, 'listener'));
}

/** Add listener `name` on `port` (the schema's defaults for the rest). */
export async function addListener(ctx: OpsContext, name: string, input: ListenerChange & { port: number }): Promise<Changed> {
  return change(ctx, `listener add ${name}`, (draft) => {
    if (indexOfNamed(draft.receiveConnectors, name) >= 0) throw new OpsError('conflict', `listener "${name}" already exists`);
    const l = receiveConnectorSchema.parse({ name, port: input.port });
    applyChange(l, input);
    draft.receiveConnectors.push(l);
  });
}

/** Change listener `name`. */
export async function setListener(ctx: OpsContext, name: string, input: ListenerChange): Promise<Changed> {
  return change(ctx, `listener set ${name}`, (draft) => applyChange(requireNamed(draft.receiveConnectors, name, 'listener'), input));
}

/** Remove listener `name`; the last one only with `force`. */
export async function removeListener(ctx: OpsContext, name: string, opts: { force?: boolean } = {}): Promise<Changed> {
  return removeNamed(ctx, name, { noun: 'listener', verb: 'listener', list: (c) => c.receiveConnectors, complete: true, ...(opts.force !== undefined ? { force: opts.force } : {}) });
}
