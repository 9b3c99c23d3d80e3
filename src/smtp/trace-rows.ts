/**
 * @module smtp/trace-rows
 * Builds the trace rows the receive side records: refused connections, refused transactions and
 * accepted messages, with the session facts (client, HELO, TLS, certificate, AUTH user) and the
 * attribution. Appending never blocks a reply (the sink buffers). Each refusal is also logged
 * (smtp/refusal-log: rate-limited per client IP).
 * Touches: the trace sink.
 */
import type { Attribution } from '../policy/types.ts';
import type { TraceMessage } from '../trace/events.ts';
import type { ConnState, TxState } from './session.ts';
import type { SmtpDeps } from './deps.ts';
import { refusalLogFor } from './refusal-log.ts';

/** Attribution columns of a trace row. */
export function attributionColumns(a: Attribution | undefined): Pick<TraceMessage, 'attribution' | 'connector' | 'connectorType' | 'connectorMatchedBy'> {
  if (!a) return { attribution: undefined };
  if (a.kind === 'connector') return { attribution: a.kind, connector: a.connector, connectorType: a.connectorType, connectorMatchedBy: a.matchedBy };
  return { attribution: a.kind };
}

/** The session part of a trace row. */
export function sessionColumns(c: ConnState): Omit<TraceMessage, 'id' | 'receivedAt' | 'recipients' | 'status'> {
  return {
    connectionId: c.connectionId,
    clientIp: c.clientIp,
    clientPort: c.clientPort,
    helo: c.helo,
    listener: c.listener,
    tlsVersion: c.tls ? (c.tlsVersion ?? 'TLS') : undefined,
    tlsCipher: c.tlsCipher,
    certSubject: c.cert ? (c.cert.subject ?? c.cert.subjectCN) : undefined,
    certCn: c.cert?.subjectCN,
    certSans: c.cert && c.cert.sanDns.length > 0 ? [...c.cert.sanDns] : undefined,
    certVerified: c.cert ? c.cert.verified : undefined,
    authUser: c.authUser,
    source: 'gateway',
  };
}

/** A connection refused at connect (scoped listener, blocked IP). */
export function traceRefusedConnection(deps: SmtpDeps, c: ConnState, reply: string, reasons: string[]): void {
  const at = deps.now();
  deps.trace.message({ ...sessionColumns(c), id: c.connectionId, receivedAt: at, recipients: [], status: 'Rejected', reply, reasons });
  deps.trace.event({ messageId: c.connectionId, at, event: 'CONNECT_REJECT', detail: reply });
  refusalLogFor(deps.logger).log({ ip: c.clientIp, listener: c.listener, reply, id: c.connectionId });
}

/** A transaction with a refusal (MAIL, a RCPT, or end of DATA). */
export function traceRefusedTransaction(
  deps: SmtpDeps,
  c: ConnState,
  tx: TxState,
  reply: string,
  attribution: Attribution | undefined,
  reasons: string[],
  rcpt?: string,
  extra: Partial<TraceMessage> = {},
): void {
  const recipients = rcpt !== undefined && !tx.rcpts.includes(rcpt) ? [...tx.rcpts, rcpt] : [...tx.rcpts];
  deps.trace.message({
    ...sessionColumns(c),
    ...attributionColumns(attribution),
    id: tx.id,
    receivedAt: tx.startedAt,
    mailFrom: tx.mailFrom,
    recipients,
    status: 'Rejected',
    reply,
    reasons,
    ...extra,
  });
  const last = tx.events[tx.events.length - 1];
  if (last && last.detail === reply) deps.trace.event(last);
  else deps.trace.event({ messageId: tx.id, at: deps.now(), event: 'REJECT', recipient: rcpt, detail: reply });
  refusalLogFor(deps.logger).log({ ip: c.clientIp, listener: c.listener, reply, id: tx.id, mailFrom: tx.mailFrom, rcpt, attribution: attribution?.kind });
}
