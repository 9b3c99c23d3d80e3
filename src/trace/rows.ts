/**
 * @module trace/rows
 * Row ⇄ record mapping for the trace tables: TraceMessage ⇄ trace_message (recipients as JSON
 * text plus rcpt_count, reasons comma separated, the header Message-ID as internet_message_id so
 * it is never confused with trace_event.message_id) and trace_event → TraceEvent.
 * Null columns become absent properties. Pure.
 * Touches: nothing.
 */
import type { TraceEvent, TraceEventType, TraceMessage, TraceStatus } from './events.ts';

/** The columns a TraceMessage maps to (an upsert keeps stored auth results when the new row has none). */
export const MESSAGE_COLUMNS = [
  'id', 'connection_id', 'received_at', 'client_ip', 'client_port', 'helo', 'listener',
  'tls_version', 'tls_cipher', 'cert_subject', 'auth_user', 'mail_from', 'header_from',
  'recipients', 'rcpt_count', 'subject', 'size', 'internet_message_id', 'attribution',
  'connector', 'connector_type', 'connector_matched_by', 'status', 'reply', 'reasons', 'source',
  'updated_at', 'cert_cn', 'cert_sans', 'cert_verified',
  'spf', 'dkim', 'dmarc', 'arc', 'compauth', 'spoof_suspect', 'dns_lookups',
] as const;

export type MessageColumn = (typeof MESSAGE_COLUMNS)[number];
export type SqlValue = string | number | null;
/** A trace_message row as SQLite returns it. */
export type MessageRecord = Record<MessageColumn, SqlValue>;

/** A trace_event row as SQLite returns it. */
export interface EventRecord {
  id: number;
  message_id: string;
  at: number;
  event: string;
  recipient: string | null;
  detail: string | null;
}

/** Map a TraceMessage to its row (recipients as JSON text, reasons comma separated). */
export function messageToRecord(m: TraceMessage, updatedAt: number): MessageRecord {
  return {
    id: m.id,
    connection_id: m.connectionId,
    received_at: m.receivedAt,
    client_ip: m.clientIp,
    client_port: m.clientPort ?? null,
    helo: m.helo ?? null,
    listener: m.listener,
    tls_version: m.tlsVersion ?? null,
    tls_cipher: m.tlsCipher ?? null,
    cert_subject: m.certSubject ?? null,
    auth_user: m.authUser ?? null,
    mail_from: m.mailFrom ?? null,
    header_from: m.headerFrom ?? null,
    recipients: JSON.stringify(m.recipients),
    rcpt_count: m.recipients.length,
    subject: m.subject ?? null,
    size: m.size ?? null,
    internet_message_id: m.messageId ?? null,
    attribution: m.attribution ?? null,
    connector: m.connector ?? null,
    connector_type: m.connectorType ?? null,
    connector_matched_by: m.connectorMatchedBy ?? null,
    status: m.status,
    reply: m.reply ?? null,
    reasons: m.reasons ? m.reasons.join(',') : null,
    source: m.source ?? null,
    updated_at: updatedAt,
    cert_cn: m.certCn ?? null,
    cert_sans: m.certSans ? JSON.stringify(m.certSans) : null,
    cert_verified: m.certVerified === undefined ? null : m.certVerified ? 1 : 0,
    spf: m.spf ?? null,
    dkim: m.dkim ?? null,
    dmarc: m.dmarc ?? null,
    arc: m.arc ?? null,
    compauth: m.compauth ?? null,
    spoof_suspect: m.spoofSuspect === undefined ? null : m.spoofSuspect ? 1 : 0,
    dns_lookups: m.dnsLookups ?? null,
  };
}

export function parseRecipients(text: SqlValue): string[] {
  if (typeof text !== 'string') return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Map a row back to a TraceMessage; null columns become absent properties. */
export function recordToMessage(r: MessageRecord): TraceMessage {
  const m: TraceMessage = {
    id: String(r.id),
    connectionId: String(r.connection_id),
    receivedAt: Number(r.received_at),
    clientIp: String(r.client_ip),
    listener: String(r.listener),
    recipients: parseRecipients(r.recipients),
    status: String(r.status) as TraceStatus,
  };
  // `?? null`: rows read from a store created before a column was added lack it.
  const str = (v: SqlValue | undefined): string | undefined => (v === null || v === undefined ? undefined : String(v));
  const num = (v: SqlValue | undefined): number | undefined => (v === null || v === undefined ? undefined : Number(v));
  const optional: Partial<TraceMessage> = {
    clientPort: num(r.client_port),
    helo: str(r.helo),
    tlsVersion: str(r.tls_version),
    tlsCipher: str(r.tls_cipher),
    certSubject: str(r.cert_subject),
    authUser: str(r.auth_user),
    mailFrom: str(r.mail_from),
    headerFrom: str(r.header_from),
    subject: str(r.subject),
    size: num(r.size),
    messageId: str(r.internet_message_id),
    attribution: str(r.attribution),
    connector: str(r.connector),
    connectorType: str(r.connector_type),
    connectorMatchedBy: str(r.connector_matched_by),
    reply: str(r.reply),
    reasons: r.reasons === null ? undefined : String(r.reasons) === '' ? [] : String(r.reasons).split(','),
    source: str(r.source),
    certCn: str(r.cert_cn),
    certSans: r.cert_sans === null || r.cert_sans === undefined ? undefined : parseRecipients(r.cert_sans),
    certVerified: r.cert_verified === null || r.cert_verified === undefined ? undefined : Number(r.cert_verified) === 1,
    spf: str(r.spf),
    dkim: str(r.dkim),
    dmarc: str(r.dmarc),
    arc: str(r.arc),
    compauth: str(r.compauth),
    spoofSuspect: r.spoof_suspect === null || r.spoof_suspect === undefined ? undefined : Number(r.spoof_suspect) === 1,
    dnsLookups: num(r.dns_lookups),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(m, { [k]: v });
  return m;
}

/** Map a trace_event row to a TraceEvent; null columns become absent properties. */
export function recordToEvent(r: EventRecord): TraceEvent {
  const e: TraceEvent = { messageId: r.message_id, at: r.at, event: r.event as TraceEventType };
  if (r.recipient !== null) e.recipient = r.recipient;
  if (r.detail !== null) e.detail = r.detail;
  return e;
}
