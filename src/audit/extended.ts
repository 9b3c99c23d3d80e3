/**
 * @module audit/extended
 * The Extended report (historical search `MessageTraceDetail`, message-tracking-log columns): one
 * row per event, so events are gathered per network_message_id and the message copies emitted when
 * the file ends (Exchange caps these reports at 100,000 rows, so this fits in memory).
 * Per message: received time, client IP (original_client_ip, else client_ip) and connector_id from
 * the RECEIVE event (else the first event that has them); P1 = return_path (`<>` = null sender);
 * header sender = sender_address; direction = directionality; SPF/DKIM/DMARC/CompAuth from
 * `S:SPF=…` style entries of custom_data or message_info; recipients = every recipient_address
 * (`;` separated) of any event, status from the latest outcome event for that recipient
 * (DELIVER/SEND → Delivered, FAIL/DROP → Failed, DEFER → Deferred; RECEIVE only → Received).
 * Exchange's verdicts kept verbatim (trace/exo-verdicts): that event word, directionality,
 * connector_id and custom_data's SFV/CAT/SCL.
 * Touches: nothing (pure).
 */
import { spamFilterFields, type ExoVerdicts, type TraceStatus } from '../trace/index.ts';
import { clientIpOf, first, keyOf, type Getter } from './map-rows.ts';
import { address, authFromCustomData, directionOf, statusOf, type Direction, type ImportedRow } from './model.ts';
import { parseExoTime } from './time.ts';

interface Msg {
  id: string;
  firstAt: number;
  receiveAt?: number | undefined;
  direction: Direction;
  clientIp: string;
  ipFromReceive: boolean;
  connector?: string | undefined;
  mailFrom?: string | undefined;
  headerFrom?: string | undefined;
  subject?: string | undefined;
  size?: number | undefined;
  messageId?: string | undefined;
  auth: Pick<ImportedRow, 'spf' | 'dkim' | 'dmarc' | 'compauth'>;
  exo: ExoVerdicts;
  rcpts: Map<string, { status: TraceStatus; at: number; address: string; event: string }>;
}

const OUTCOME = new Set(['DELIVER', 'SEND', 'FAIL', 'DROP', 'DEFER', 'QUARANTINE']);

/** Gathers Extended report events; `finish()` returns the message copies. */
export class ExtendedAggregator {
  private readonly msgs = new Map<string, Msg>();

  /** Add one event row; returns an error text when the row is malformed. */
  add(get: Getter): string | undefined {
    const ts = first(get, 'datetimeutc', 'datetime');
    const at = ts === '' ? undefined : parseExoTime(ts);
    if (at === undefined) return ts === '' ? 'no date_time_utc' : `unreadable date_time_utc "${ts}"`;
    const id = first(get, 'networkmessageid');
    if (id === '') return 'no network_message_id';
    const event = get('eventid').trim().toUpperCase();
    const ip = clientIpOf(first(get, 'originalclientip', 'clientip'), 'client_ip');
    if (typeof ip !== 'string') return ip.error;
    let m = this.msgs.get(id);
    if (!m) {
      m = { id, firstAt: at, direction: 'unknown', clientIp: '', ipFromReceive: false, auth: {}, exo: {}, rcpts: new Map() };
      this.msgs.set(id, m);
    }
    m.firstAt = Math.min(m.firstAt, at);
    const isReceive = event === 'RECEIVE';
    if (isReceive) m.receiveAt = Math.min(m.receiveAt ?? at, at);
    if (ip !== '' && (isReceive ? !m.ipFromReceive : m.clientIp === '')) {
      m.clientIp = ip;
      m.ipFromReceive = isReceive;
    }
    const conn = first(get, 'connectorid');
    if (conn && (isReceive || !m.connector)) m.connector = conn;
    if (m.direction === 'unknown') m.direction = directionOf(get('directionality'));
    m.mailFrom ??= address(get('returnpath'));
    m.headerFrom ??= address(get('senderaddress'));
    m.subject ??= get('messagesubject') || undefined;
    m.messageId ??= get('messageid') || undefined;
    const size = Number(get('totalbytes'));
    if (m.size === undefined && get('totalbytes') !== '' && Number.isFinite(size)) m.size = size;
    const auth = { ...authFromCustomData(get('customdata')), ...authFromCustomData(get('messageinfo')) };
    for (const k of ['spf', 'dkim', 'dmarc', 'compauth'] as const) m.auth[k] ??= auth[k];
    const sf = spamFilterFields(get('customdata'));
    for (const k of ['sfv', 'cat', 'scl'] as const) m.exo[k] ??= sf[k];
    m.exo.direction ??= get('directionality').trim() || undefined;
    m.exo.connectors ??= conn || undefined;
    for (const part of get('recipientaddress').split(';')) {
      const a = address(part);
      if (!a) continue;
      const k = a.toLowerCase();
      const cur = m.rcpts.get(k);
      if (OUTCOME.has(event)) {
        if (!cur || cur.status === 'Received' || at >= cur.at) m.rcpts.set(k, { status: statusOf(event), at, address: a, event });
      } else if (!cur) m.rcpts.set(k, { status: 'Received', at: -Infinity, address: a, event });
    }
    return undefined;
  }

  /** Messages gathered so far. */
  get size(): number {
    return this.msgs.size;
  }

  /** The message copies (one per recipient). Messages with no recipient are returned as errors. */
  finish(): { rows: ImportedRow[]; noRecipient: string[] } {
    const rows: ImportedRow[] = [];
    const noRecipient: string[] = [];
    for (const m of this.msgs.values()) {
      if (m.rcpts.size === 0) {
        noRecipient.push(m.id);
        continue;
      }
      for (const r of m.rcpts.values()) {
        rows.push({
          key: keyOf(m.id, r.address),
          networkMessageId: m.id,
          receivedAt: m.receiveAt ?? m.firstAt,
          direction: m.direction,
          clientIp: m.clientIp,
          mailFrom: m.mailFrom,
          headerFrom: m.headerFrom,
          recipient: r.address,
          subject: m.subject,
          size: m.size,
          messageId: m.messageId,
          connector: m.connector,
          status: r.status,
          ...m.auth,
          exo: { ...m.exo, status: r.event || undefined },
        });
      }
    }
    this.msgs.clear();
    return { rows, noRecipient };
  }
}
