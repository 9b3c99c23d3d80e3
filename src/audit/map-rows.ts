/**
 * @module audit/map-rows
 * Column mapping of the per-message exports to ImportedRow: Get-MessageTraceV2 (message-trace),
 * the Enhanced summary report (historical-search) and Defender EmailEvents. Each mapper reads a
 * row through a Getter (normalised column name → text) and returns its rows or the reason the row
 * is malformed.
 * - message-trace: P1 = SenderAddress (message trace lists the envelope sender); client IP = FromIP;
 *   direction: ToIP set → outbound, else FromIP set → inbound, else intra-org (the export has no
 *   direction column; "ToIP is blank for inbound" and FromIP is the sending server of inbound mail,
 *   so a row with neither never came from an SMTP client); no connector column: every inbound row counts
 *   as "no connector" (say so in the plan); dedupe id = MessageTraceId (the network message id),
 *   else MessageId.
 * - historical-search: P1 = sender_address (the only sender column); one row per recipient of
 *   recipient_status (`addr##Receive, Deliver;addr2##…`), status from the last event word;
 *   client IP = original_client_ip; connector = connector_id; direction = directionality.
 * - email-events: P1 = SenderMailFromAddress (else SenderFromAddress), header From =
 *   SenderFromAddress; client IP = SenderIPv4, else SenderIPv6; connector = Connectors ('' or [] = none);
 *   status = Quarantined when DeliveryLocation is Quarantine, else from DeliveryAction;
 *   SPF/DKIM/DMARC/CompAuth from AuthenticationDetails.
 * Every mapper also keeps Exchange's own verdicts verbatim (`exo`, trace/exo-verdicts): Status; the
 * last recipient_status event, directionality, connector_id and custom_data's SFV/CAT/SCL;
 * DeliveryAction, DeliveryLocation, ThreatTypes, DetectionMethods, EmailDirection, Connectors.
 * Touches: nothing (pure).
 */
import { isIP } from 'node:net';
import { spamFilterFields, type TraceStatus } from '../trace/index.ts';
import { address, authFromCustomData, authFromDetails, directionOf, statusOf, type ImportedRow } from './model.ts';
import { parseExoTime } from './time.ts';

/** Read a column by its normalised name ('' when absent). */
export type Getter = (col: string) => string;

/** A row's mapped message copies, or the reason it is malformed. */
export type MapResult = ImportedRow[] | string;

export type RowMapper = (get: Getter) => MapResult;

/** The first non-empty of several columns. */
export function first(get: Getter, ...cols: string[]): string {
  for (const c of cols) {
    const v = get(c);
    if (v !== '') return v.trim();
  }
  return '';
}

/** Dedupe key: network message id + recipient (lower case). */
export function keyOf(id: string, recipient: string): string {
  return `${id.toLowerCase()}|${recipient.toLowerCase()}`;
}

/** A client IP as the trace stores it, or an error text. */
export function clientIpOf(text: string, col: string): string | { error: string } {
  const t = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (t === '' || isIP(t) !== 0) return t;
  return { error: `${col} "${text}" is not an IP address` };
}

function sizeOf(text: string): number | undefined {
  if (text === '') return undefined;
  const n = Number(text.replace(/[,\s]/g, ''));
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function time(get: Getter, ...cols: string[]): number | string {
  const t = first(get, ...cols);
  if (t === '') return `no ${cols[0]} timestamp`;
  return parseExoTime(t) ?? `unreadable ${cols[0]} timestamp "${t}"`;
}

const opt = (s: string): string | undefined => (s === '' ? undefined : s);

export const mapMessageTrace: RowMapper = (get) => {
  const at = time(get, 'received', 'receiveddatetime', 'receivedtime', 'date');
  if (typeof at === 'string') return at;
  const recipient = address(get('recipientaddress'));
  if (!recipient) return 'no RecipientAddress';
  const from = clientIpOf(first(get, 'fromip'), 'FromIP');
  if (typeof from !== 'string') return from.error;
  const to = first(get, 'toip');
  const messageId = opt(first(get, 'messageid'));
  const id = first(get, 'messagetraceid', 'networkmessageid') || messageId || '';
  if (id === '') return 'no MessageTraceId or MessageId to key the row';
  return [
    {
      key: keyOf(id, recipient),
      networkMessageId: id,
      receivedAt: at,
      direction: to !== '' ? 'outbound' : from !== '' ? 'inbound' : 'intra-org',
      clientIp: from,
      mailFrom: address(get('senderaddress')),
      recipient,
      subject: opt(get('subject')),
      size: sizeOf(get('size')),
      messageId,
      status: statusOf(get('status')),
      exo: { status: opt(get('status').trim()) },
    },
  ];
};

/** `addr##Receive, Deliver;addr2##Receive, Fail` → [address, status, last event word] triples. */
export function recipientStatuses(text: string): [string, TraceStatus, string][] {
  const out: [string, TraceStatus, string][] = [];
  for (const part of text.split(';')) {
    const [addr, events] = part.split('##');
    const a = address(addr);
    if (!a) continue;
    const words = (events ?? '').split(',').map((w) => w.trim()).filter(Boolean);
    const last = words[words.length - 1] ?? '';
    out.push([a, statusOf(last), last]);
  }
  return out;
}

export const mapHistoricalSearch: RowMapper = (get) => {
  const at = time(get, 'origintimestamputc', 'origintimestamp');
  if (typeof at === 'string') return at;
  const id = first(get, 'networkmessageid');
  if (id === '') return 'no network_message_id';
  const rcpts = recipientStatuses(get('recipientstatus'));
  if (rcpts.length === 0) return 'no recipient in recipient_status';
  const ip = clientIpOf(first(get, 'originalclientip', 'clientip'), 'original_client_ip');
  if (typeof ip !== 'string') return ip.error;
  const base = {
    networkMessageId: id,
    receivedAt: at,
    direction: directionOf(get('directionality')),
    clientIp: ip,
    mailFrom: address(get('senderaddress')),
    subject: opt(get('messagesubject')),
    size: sizeOf(get('totalbytes')),
    messageId: opt(first(get, 'messageid')),
    connector: opt(first(get, 'connectorid')),
    ...authFromCustomData(get('customdata')),
  };
  const exo = { direction: opt(get('directionality').trim()), connectors: opt(first(get, 'connectorid')), ...spamFilterFields(get('customdata')) };
  return rcpts.map(([recipient, status, word]) => ({ ...base, key: keyOf(id, recipient), recipient, status, exo: { ...exo, status: opt(word) } }));
};

function eventsStatus(get: Getter): TraceStatus {
  if (/quarantine/i.test(get('deliverylocation')) || /quarantine/i.test(get('latestdeliverylocation'))) return 'Quarantined';
  const action = first(get, 'latestdeliveryaction', 'deliveryaction');
  return action === '' ? 'Received' : statusOf(action);
}

export const mapEmailEvents: RowMapper = (get) => {
  const at = time(get, 'timestamp', 'timegenerated');
  if (typeof at === 'string') return at;
  const id = first(get, 'networkmessageid');
  if (id === '') return 'no NetworkMessageId';
  const recipient = address(get('recipientemailaddress'));
  if (!recipient) return 'no RecipientEmailAddress';
  const ip = clientIpOf(first(get, 'senderipv4', 'senderipv6'), 'SenderIPv4/SenderIPv6');
  if (typeof ip !== 'string') return ip.error;
  const auth = authFromDetails(get('authenticationdetails'));
  if (!auth) return `AuthenticationDetails is not a JSON object: ${get('authenticationdetails').slice(0, 60)}`;
  const headerFrom = address(get('senderfromaddress'));
  return [
    {
      key: keyOf(id, recipient),
      networkMessageId: id,
      receivedAt: at,
      direction: directionOf(get('emaildirection')),
      clientIp: ip,
      mailFrom: address(get('sendermailfromaddress')) ?? headerFrom,
      headerFrom,
      recipient,
      subject: opt(get('subject')),
      size: sizeOf(get('emailsize')),
      messageId: opt(get('internetmessageid')),
      connector: opt(get('connectors').trim().replace(/^\[\s*\]$/, '')),
      status: eventsStatus(get),
      ...auth,
      exo: {
        deliveryAction: opt(first(get, 'latestdeliveryaction', 'deliveryaction')),
        deliveryLocation: opt(first(get, 'latestdeliverylocation', 'deliverylocation')),
        threatTypes: opt(first(get, 'threattypes')),
        detectionMethods: opt(first(get, 'detectionmethods')),
        direction: opt(first(get, 'emaildirection')),
        connectors: opt(first(get, 'connectors')),
      },
    },
  ];
};
