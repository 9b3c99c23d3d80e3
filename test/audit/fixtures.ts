/**
 * @module test/audit/fixtures
 * Writes Exchange Online exports for the audit tests, in each supported shape, with header rows
 * exactly as the reference gives them: Get-MessageTraceV2 | Export-Csv from Windows PowerShell 5.1
 * (`#TYPE` line, UTF-16 LE with BOM, every field quoted, CRLF), the historical search Enhanced summary
 * (UTF-8 without BOM), the Extended report, the EAC Inbound messages report, and Defender EmailEvents
 * as CSV, JSON lines and a JSON array. The fixture tenant is contoso.com; timestamps are relative to
 * `now` so the reports' windows see them.
 * Touches: the directory it is given.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const H = 3_600_000;

export type Encoding = 'utf16le-bom' | 'utf16le' | 'utf8' | 'utf8-bom';

/** RFC 4180 CSV text: every field quoted (as Export-Csv and Exchange write), CRLF. */
export function csv(header: readonly string[], rows: readonly (readonly string[])[], quoteAll = true): string {
  const q = (s: string): string => (quoteAll || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [header, ...rows].map((r) => r.map(q).join(',')).join('\r\n') + '\r\n';
}

export function encode(text: string, enc: Encoding): Buffer {
  if (enc === 'utf8') return Buffer.from(text, 'utf8');
  if (enc === 'utf8-bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
  const body = Buffer.from(text, 'utf16le');
  return enc === 'utf16le' ? body : Buffer.concat([Buffer.from([0xff, 0xfe]), body]);
}

export function write(dir: string, name: string, text: string, enc: Encoding): string {
  const f = join(dir, name);
  writeFileSync(f, encode(text, enc));
  return f;
}

/** `M/D/YYYY h:mm:ss AM/PM` (Windows PowerShell 5.1, en-US). */
export function usTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h12}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** ISO with 7 fractional digits (.NET "o"). */
export function isoTime7(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

export const MESSAGE_TRACE_HEADER = ['Received', 'SenderAddress', 'RecipientAddress', 'Subject', 'Status', 'ToIP', 'FromIP', 'Size', 'MessageId', 'MessageTraceId'];

/** Get-MessageTraceV2 | Export-Csv (PowerShell 5.1): a printer, an IPv6 app, an outsider, an outbound message. */
export function messageTraceText(now: number, typeLine = true): string {
  const t = (h: number): string => usTime(now - h * H);
  const rows = [
    [t(30), 'scanner@contoso.com', 'alice@contoso.com', 'Scan, page 1', 'Delivered', '', '203.0.113.10', '52311', '<scan1@printer>', 'aaaaaaaa-0000-0000-0000-000000000001'],
    [t(29), 'scanner@contoso.com', 'bob@contoso.com', 'Scan\r\nsecond line', 'Delivered', '', '203.0.113.10', '40110', '<scan2@printer>', 'aaaaaaaa-0000-0000-0000-000000000002'],
    [t(20), 'app@contoso.com', 'bob@contoso.com', 'Report "daily"', 'FilteredAsSpam', '', '2001:db8::25', '1200', '<app1@host>', 'aaaaaaaa-0000-0000-0000-000000000003'],
    [t(10), 'news@fabrikam.example', 'alice@contoso.com', 'Newsletter', 'Delivered', '', '192.0.2.80', '9000', '<n1@fabrikam>', 'aaaaaaaa-0000-0000-0000-000000000004'],
    [t(5), 'alice@contoso.com', 'partner@fabrikam.example', 'Re: order', 'Delivered', '192.0.2.99', '10.0.0.5', '3000', '<o1@contoso>', 'aaaaaaaa-0000-0000-0000-000000000005'],
  ];
  return (typeLine ? '#TYPE Deserialized.Microsoft.Exchange.Management.ReportingTask.MessageTraceV2\r\n' : '') + csv(MESSAGE_TRACE_HEADER, rows);
}

export const HISTORICAL_HEADER = 'origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,network_message_id,original_client_ip,directionality,connector_id,delivery_priority'.split(',');

/** Enhanced summary report: an alerting system (two recipients), a connector partner, directionality as words and numbers. */
export function historicalText(now: number): string {
  const t = (h: number): string => isoTime7(now - h * H);
  const rows = [
    [t(26), 'alerts@contoso.com', 'alice@contoso.com##Receive, Deliver;bob@contoso.com##Receive, Fail', 'Disk, 90% full', '4000', '<a1@mon>', 'bbbbbbbb-0000-0000-0000-000000000001', '203.0.113.20', 'Incoming', '', 'Normal'],
    [t(25), 'alerts@contoso.com', 'alice@contoso.com##Receive, Deliver, Quarantined', 'Disk\nfull again', '4100', '<a2@mon>', 'bbbbbbbb-0000-0000-0000-000000000002', '203.0.113.20', '1', '', 'High'],
    [t(24), 'erp@contoso.com', 'carol@contoso.com##Receive, Deliver', 'Invoice 42', '8000', '<e1@erp>', 'bbbbbbbb-0000-0000-0000-000000000003', '192.0.2.50', 'Inbound', 'ERP Partner', 'Normal'],
  ];
  return csv(HISTORICAL_HEADER, rows, false);
}

export const EXTENDED_HEADER =
  'date_time_utc,client_ip,client_hostname,server_ip,server_hostname,source_context,connector_id,source,event_id,internal_message_id,message_id,network_message_id,recipient_address,recipient_status,total_bytes,recipient_count,related_recipient_address,reference,message_subject,sender_address,return_path,message_info,directionality,tenant_id,original_client_ip,original_server_ip,custom_data'.split(',');

/** Extended report: one message from a copier, RECEIVE then DELIVER, auth in custom_data. */
export function extendedText(now: number): string {
  const t = (h: number): string => isoTime7(now - h * H);
  const e = (time: string, ev: string, rcpt: string, custom: string): string[] => [
    time, '203.0.113.30', 'copier.contoso.com', '10.1.1.1', 'EXO1', '', '', 'SMTP', ev, '1', '<c1@copier>', 'cccccccc-0000-0000-0000-000000000001',
    rcpt, '', '777', '2', '', '', 'Copier scan', 'copier@contoso.com', 'copier@contoso.com', '', 'Incoming', 'tid', '203.0.113.30', '', custom,
  ];
  return csv(EXTENDED_HEADER, [
    e(t(3), 'RECEIVE', 'dave@contoso.com;erin@contoso.com', 'S:SPF=pass;S:DKIM=none;S:DMARC=pass;S:CompAuth=pass'),
    e(t(2.9), 'DELIVER', 'dave@contoso.com', ''),
    e(t(2.9), 'FAIL', 'erin@contoso.com', ''),
  ]);
}

export const INBOUND_REPORT_HEADER = ['Date', 'Connector direction and name', 'Connector type', 'Forced TLS?', 'No TLS', 'TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'Volume'];

export function inboundReportText(now: number): string {
  const day = (d: number): string => new Date(now - d * 24 * H).toISOString().slice(0, 10);
  return csv(INBOUND_REPORT_HEADER, [
    [day(1), 'Inbound - NoConnector', 'NoConnector', 'No', '12', '0', '0', '340', '352'],
    [day(1), 'Inbound - ERP Partner', 'Partner', 'Yes', '0', '0', '0', '1,200', '1,200'],
    [day(2), 'Inbound - NoConnector', 'NoConnector', 'No', '8', '0', '0', '300', '308'],
  ]);
}

export const EMAIL_EVENTS_HEADER = ['Timestamp', 'NetworkMessageId', 'InternetMessageId', 'SenderMailFromAddress', 'SenderFromAddress', 'SenderMailFromDomain', 'SenderIPv4', 'SenderIPv6', 'RecipientEmailAddress', 'Subject', 'EmailDirection', 'DeliveryAction', 'DeliveryLocation', 'AuthenticationDetails', 'Connectors'];

/** EmailEvents: a spoofer (fails everything), a SaaS sender authorised by include:, a partner connector. */
export function emailEventsRows(now: number): Record<string, string>[] {
  const t = (h: number): string => isoTime7(now - h * H);
  const auth = (spf: string, dkim: string, dmarc: string, ca: string): string => JSON.stringify({ SPF: spf, DKIM: dkim, DMARC: dmarc, CompAuth: ca });
  const r = (vals: string[]): Record<string, string> => Object.fromEntries(EMAIL_EVENTS_HEADER.map((h, i) => [h, vals[i] ?? '']));
  return [
    r([t(12), 'dddddddd-0000-0000-0000-000000000001', '<s1@x>', 'ceo@contoso.com', 'ceo@contoso.com', 'contoso.com', '198.51.100.66', '', 'alice@contoso.com', 'Urgent, wire', 'Inbound', 'Junked', 'Junk folder', auth('fail', 'none', 'fail', 'fail'), '']),
    r([t(11), 'dddddddd-0000-0000-0000-000000000002', '<s2@x>', 'ceo@contoso.com', 'ceo@contoso.com', 'contoso.com', '198.51.100.66', '', 'bob@contoso.com', 'Urgent, wire', 'Inbound', 'Blocked', 'Quarantine', auth('softfail', 'fail', 'fail', 'fail'), '']),
    r([t(9), 'dddddddd-0000-0000-0000-000000000003', '<m1@saas>', 'bounce@contoso.com', 'hello@contoso.com', 'contoso.com', '198.51.100.7', '', 'carol@contoso.com', 'Your receipt', 'Inbound', 'Delivered', 'Inbox/folder', auth('pass', 'pass', 'pass', 'pass'), '']),
    r([t(8), 'dddddddd-0000-0000-0000-000000000004', '<p1@erp>', 'erp@contoso.com', 'erp@contoso.com', 'contoso.com', '192.0.2.50', '', 'carol@contoso.com', 'Invoice 43', 'Inbound', 'Delivered', 'Inbox/folder', auth('pass', 'pass', 'pass', 'pass'), 'ERP Partner']),
  ];
}

export function emailEventsCsv(now: number): string {
  return csv(EMAIL_EVENTS_HEADER, emailEventsRows(now).map((r) => EMAIL_EVENTS_HEADER.map((h) => r[h] ?? '')));
}

export function emailEventsJsonLines(now: number): string {
  return emailEventsRows(now).map((r) => JSON.stringify({ ...r, AuthenticationDetails: JSON.parse(r.AuthenticationDetails ?? '{}') as unknown })).join('\n') + '\n';
}

export function emailEventsJsonArray(now: number): string {
  return JSON.stringify(emailEventsRows(now), null, 2);
}

/** The fixture tenant's SPF record and the DNS the tests answer for its include. */
export const TENANT_SPF = 'v=spf1 ip4:203.0.113.0/26 include:spf.vendor.example -all';

export async function fakeResolve(name: string, rrtype: string): Promise<unknown> {
  if (rrtype === 'TXT' && name.toLowerCase() === 'spf.vendor.example') return [['v=spf1 ip4:198.51.100.0/28 -all']];
  const e = new Error(`queryTxt ENOTFOUND ${name}`) as NodeJS.ErrnoException;
  e.code = 'ENOTFOUND';
  throw e;
}
