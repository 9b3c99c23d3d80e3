/**
 * @module test/audit/form-fixtures
 * The export forms seen in real tenants (reference §5.5), written byte for byte by the tests: the
 * same three messages of tenant contoso.com in each form, at fixed times in May 2026 (older than
 * the 90-day trace retention the tests prune with), so every form can be asserted to give the same
 * trace rows. Messages: a printer (Direct Send, 203.0.113.10 → alice and bob), a spoofer of the CFO
 * (198.51.100.66, quarantined), and an outbound reply (alice → partner@fabrikam.example).
 * Touches: the directory it is given.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Bytes = 'utf8' | 'utf8-bom' | 'utf16le-bom' | 'utf16be-bom';

export function bytesOf(text: string, enc: Bytes): Buffer {
  if (enc === 'utf8') return Buffer.from(text, 'utf8');
  if (enc === 'utf8-bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  return enc === 'utf16le-bom' ? le : le.swap16();
}

export function put(dir: string, name: string, text: string, enc: Bytes = 'utf8'): string {
  const f = join(dir, name);
  writeFileSync(f, bytesOf(text, enc));
  return f;
}

/** Export-Csv: every field quoted, CRLF, the given delimiter, optional `#TYPE` line. */
export function exportCsv(header: readonly string[], rows: readonly (readonly string[])[], o: { delimiter?: string; type?: string } = {}): string {
  const d = o.delimiter ?? ',';
  const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  const lines = [header, ...rows].map((r) => r.map(q).join(d));
  return (o.type ? `#TYPE ${o.type}\r\n` : '') + lines.join('\r\n') + '\r\n';
}

/** The three messages (instants in ms, UTC). */
export const T = {
  scan1: Date.UTC(2026, 4, 13, 8, 15, 0), // 13 May 2026: a day above 12 settles the order
  scan2: Date.UTC(2026, 4, 6, 9, 0, 0), // 6 May 2026: ambiguous alone (06/05 vs 05/06)
  spoof: Date.UTC(2026, 4, 7, 22, 1, 22),
  reply: Date.UTC(2026, 4, 8, 10, 30, 0),
};

const p2 = (n: number): string => String(n).padStart(2, '0');
const parts = (ms: number): { d: number; m: number; y: number; time: string } => {
  const x = new Date(ms);
  return { d: x.getUTCDate(), m: x.getUTCMonth() + 1, y: x.getUTCFullYear(), time: `${p2(x.getUTCHours())}:${p2(x.getUTCMinutes())}:${p2(x.getUTCSeconds())}` };
};
/** de-DE `13.05.2026 08:15:00`. */
export const deTime = (ms: number): string => ((p) => `${p2(p.d)}.${p2(p.m)}.${p.y} ${p.time}`)(parts(ms));
/** fr-FR / en-GB `13/05/2026 08:15:00`. */
export const frTime = (ms: number): string => ((p) => `${p2(p.d)}/${p2(p.m)}/${p.y} ${p.time}`)(parts(ms));
/** nl-NL `13-5-2026 08:15:00`. */
export const nlTime = (ms: number): string => ((p) => `${p.d}-${p.m}-${p.y} ${p.time}`)(parts(ms));
/** en-US `5/13/2026 8:15:00 AM`. */
export const usTime = (ms: number): string => {
  const x = new Date(ms);
  const h = x.getUTCHours();
  return `${x.getUTCMonth() + 1}/${x.getUTCDate()}/${x.getUTCFullYear()} ${h % 12 || 12}:${p2(x.getUTCMinutes())}:${p2(x.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
};
/** .NET round-trip `2026-05-13T08:15:00.0000000Z`. */
export const iso7 = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

export const V2_HEADER = ['MessageTraceId', 'MessageId', 'Received', 'SenderAddress', 'RecipientAddress', 'FromIP', 'ToIP', 'Subject', 'Status', 'Size'];
export const V1_HEADER = ['PSComputerName', 'RunspaceId', 'PSShowComputerName', 'Organization', 'MessageId', 'Received', 'SenderAddress', 'RecipientAddress', 'Subject', 'Status', 'ToIP', 'FromIP', 'Size', 'MessageTraceId', 'StartDate', 'EndDate', 'Index'];

interface Msg {
  id: string;
  mid: string;
  at: number;
  from: string;
  to: string;
  ip: string;
  toIp: string;
  subject: string;
  status: string;
  size: number;
}

/** The message copies, newest first (as Get-MessageTraceV2 sorts them). */
export const MESSAGES: readonly Msg[] = [
  { id: '11111111-aaaa-4000-8000-000000000001', mid: '<scan1@printer>', at: T.scan1, from: 'scanner@contoso.com', to: 'alice@contoso.com', ip: '203.0.113.10', toIp: '', subject: 'Scan, page 1', status: 'Delivered', size: 52311 },
  { id: '11111111-aaaa-4000-8000-000000000001', mid: '<scan1@printer>', at: T.scan1, from: 'scanner@contoso.com', to: 'bob@contoso.com', ip: '203.0.113.10', toIp: '', subject: 'Scan, page 1', status: 'Delivered', size: 52311 },
  { id: '33333333-cccc-4000-8000-000000000003', mid: '<o1@contoso>', at: T.reply, from: 'alice@contoso.com', to: 'partner@fabrikam.example', ip: '', toIp: '192.0.2.99', subject: 'Re: order', status: 'Delivered', size: 3000 },
  { id: '22222222-bbbb-4000-8000-000000000002', mid: '<s1@x>', at: T.spoof, from: 'cfo@contoso.com', to: 'bob@contoso.com', ip: '2a01:111:f403:c112::5', toIp: '', subject: 'Urgent; wire "today"', status: 'Quarantined', size: 1200 },
  { id: '44444444-dddd-4000-8000-000000000004', mid: '<scan2@printer>', at: T.scan2, from: 'scanner@contoso.com', to: 'alice@contoso.com', ip: '203.0.113.10', toIp: '', subject: 'Scan\r\nsecond line', status: 'Delivered', size: 40110 },
];

/** Get-MessageTraceV2 rows in Export-Csv column order, with the given time format. */
export function v2Rows(time: (ms: number) => string, msgs: readonly Msg[] = MESSAGES): string[][] {
  return msgs.map((m) => [m.id, m.mid, time(m.at), m.from, m.to, m.ip, m.toIp, m.subject, m.status, String(m.size)]);
}

/** V1 Get-MessageTrace through remote PowerShell, Export-Csv. */
export function v1Rows(time: (ms: number) => string): string[][] {
  return MESSAGES.map((m, i) => [
    'outlook.office365.com', 'f1d3c0de-0000-4000-8000-00000000000a', 'False', 'contoso.onmicrosoft.com', m.mid, time(m.at), m.from, m.to, m.subject, m.status,
    m.toIp, m.ip, String(m.size), m.id, time(T.scan2 - 86_400_000), time(T.scan1 + 86_400_000), String(i),
  ]);
}

/** Get-MessageTraceV2 | ConvertTo-Json: records with the REST `@data.type` sidecar keys. */
export function v2Json(): string {
  return JSON.stringify(
    MESSAGES.map((m) => ({
      MessageTraceId: m.id, MessageId: m.mid, Received: iso7(m.at), 'Received@data.type': 'System.DateTime', SenderAddress: m.from, RecipientAddress: m.to,
      FromIP: m.ip, ToIP: m.toIp, Subject: m.subject, Status: m.status, Size: m.size, 'Size@data.type': 'System.Int32',
    })),
    null,
    2,
  );
}

/** Graph message trace pages: `{"value":[…], "@odata.nextLink": …}`, camelCase; pages overlap by one record. */
export function graphPages(): string[] {
  const rec = (m: Msg): Record<string, unknown> => ({
    id: m.id, messageId: m.mid, receivedDateTime: new Date(m.at).toISOString(), senderAddress: m.from, recipientAddress: m.to, fromIP: m.ip || null, toIP: m.toIp || null,
    subject: m.subject, status: m.status.charAt(0).toLowerCase() + m.status.slice(1), size: m.size,
  });
  return [
    JSON.stringify({ '@odata.context': 'https://graph.microsoft.com/beta/$metadata#admin/exchange/tracing/messageTraces', value: MESSAGES.slice(0, 3).map(rec), '@odata.nextLink': 'https://graph.microsoft.com/beta/admin/exchange/tracing/messageTraces?$skiptoken=abc' }),
    JSON.stringify({ value: MESSAGES.slice(2).map(rec) }),
  ];
}

export const SUMMARY_HEADER = 'origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,network_message_id,original_client_ip,directionality,connector_id,delivery_priority'.split(',');

/** Historical search MTSummary (Enhanced summary): one row per message, directionality as text. */
export function summaryRows(): string[][] {
  const byId = new Map<string, Msg[]>();
  for (const m of MESSAGES) byId.set(m.id, [...(byId.get(m.id) ?? []), m]);
  return [...byId.values()].map((ms) => {
    const m = ms[0]!;
    const status = m.status === 'Quarantined' ? 'Receive, Deliver, Quarantined' : m.toIp ? 'Receive, Send' : 'Receive, Deliver';
    return [iso7(m.at), m.from, ms.map((x) => `${x.to}##${status}`).join(';'), m.subject, String(m.size), m.mid, m.id, m.ip, m.toIp ? 'Originating' : 'Incoming', m.toIp ? 'To_DefaultOpportunisticTLS' : '', 'Normal'];
  });
}

export const DETAIL_HEADER =
  'date_time_utc,client_ip,client_hostname,server_ip,server_hostname,source_context,connector_id,source,event_id,internal_message_id,message_id,network_message_id,recipient_address,recipient_status,total_bytes,recipient_count,related_recipient_address,reference,message_subject,sender_address,return_path,message_info,directionality,tenant_id,original_client_ip,original_server_ip,custom_data'.split(',');

/** Historical search MTDetail: the 27 columns, RECEIVE + DELIVER/FAIL events, a display name in recipient_status, message_info over two lines. */
export function detailRows(): string[][] {
  const ev = (at: number, id: string, event: string, rcpt: string, status: string, info: string, custom: string): string[] => [
    iso7(at), '203.0.113.10', 'printer.contoso.com', '40.107.1.1', 'AM0PR01MB0001', 'SMTP', '', 'SMTP', event, '1001', '<d1@printer>', id, rcpt, status, '777', '2', '', '',
    'Copier scan', 'copier@contoso.com', 'copier@contoso.com', info, 'Incoming', 'tenant-guid', '203.0.113.10', '', custom,
  ];
  const id = '55555555-eeee-4000-8000-000000000005';
  return [
    ev(T.scan2, id, 'RECEIVE', 'dave@contoso.com;erin@contoso.com', '', '', 'S:SPF=pass;S:DKIM=none;S:DMARC=pass;S:CompAuth=pass;S:DeliveryPriority=Normal;S:E2ELatency=0.5'),
    ev(T.scan2 + 2000, id, 'DELIVER', 'dave@contoso.com', '"Dave Q. Public<dave"@contoso.com##Receive, Deliver', '2026-05-06T09:00:02.000Z\r\nDelivered to mailbox', ''),
    ev(T.scan2 + 3000, id, 'FAIL', 'erin@contoso.com', 'erin@contoso.com##Receive, Fail', '550 5.1.10 RESOLVER.ADR.RecipientNotFound', ''),
  ];
}

export const EE_COLUMNS = ['Timestamp', 'NetworkMessageId', 'InternetMessageId', 'SenderMailFromAddress', 'SenderFromAddress', 'SenderMailFromDomain', 'SenderIPv4', 'SenderIPv6', 'RecipientEmailAddress', 'Subject', 'EmailDirection', 'DeliveryAction', 'DeliveryLocation', 'AuthenticationDetails', 'Connectors', 'IsFirstContact'];

/** EmailEvents records as the streaming API writes them (Connectors null, IsFirstContact boolean, AuthenticationDetails a JSON string with a subset of keys). */
export function emailEventRecords(): Record<string, unknown>[] {
  return [
    {
      Timestamp: new Date(T.spoof).toISOString(), NetworkMessageId: '22222222-bbbb-4000-8000-000000000002', InternetMessageId: '<s1@x>', SenderMailFromAddress: 'cfo@contoso.com',
      SenderFromAddress: 'cfo@contoso.com', SenderMailFromDomain: 'contoso.com', SenderIPv4: '', SenderIPv6: '2a01:111:f403:c112::5', RecipientEmailAddress: 'bob@contoso.com',
      Subject: 'Urgent; wire "today"', EmailDirection: 'Inbound', DeliveryAction: 'Blocked', DeliveryLocation: 'Quarantine', AuthenticationDetails: '{"SPF":"fail","DMARC":"fail"}',
      Connectors: null, IsFirstContact: true, To: ['bob@contoso.com'],
    },
    {
      Timestamp: new Date(T.scan1).toISOString(), NetworkMessageId: '11111111-aaaa-4000-8000-000000000001', InternetMessageId: '<scan1@printer>', SenderMailFromAddress: 'scanner@contoso.com',
      SenderFromAddress: 'scanner@contoso.com', SenderMailFromDomain: 'contoso.com', SenderIPv4: '203.0.113.10', SenderIPv6: '', RecipientEmailAddress: 'alice@contoso.com',
      Subject: 'Scan, page 1', EmailDirection: 'Inbound', DeliveryAction: 'Delivered', DeliveryLocation: 'Inbox/folder', AuthenticationDetails: '{"DKIM":"none","DMARC":"none"}',
      Connectors: '', IsFirstContact: false, To: ['alice@contoso.com'],
    },
  ];
}

/** The streaming envelope of one record. */
export function envelope(properties: Record<string, unknown>): Record<string, unknown> {
  return { time: properties.Timestamp, tenantId: 'tenant-guid', operationName: 'Publish', category: 'AdvancedHunting-EmailEvents', properties, Tenant: 'DefaultTenant' };
}

export const CHANGE_OPTICS_HEADER = ['Message ID', 'Sender', 'Recipient', 'Subject', 'Time Stamp', 'Tag', 'Details'];

export function changeOpticsRows(time: (ms: number) => string): string[][] {
  return [
    ['<scan1@printer>', 'scanner@contoso.com', 'alice@contoso.com', 'Scan, page 1', time(T.scan1), 'DRS', 'Sent by Direct Send from 203.0.113.10.'],
    ['<o2@contoso>', 'noreply@contoso.onmicrosoft.com', 'someone@fabrikam.example', 'Hello', time(T.reply), 'OMC', 'Sent from an onmicrosoft.com address'],
  ];
}
