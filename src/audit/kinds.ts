/**
 * @module audit/kinds
 * The export kinds mailgate reads, how each is recognised by its header row, and the columns each
 * needs. Header names are matched case-insensitively and ignoring everything but letters and digits
 * (`origin_timestamp_utc` = `OriginTimestampUtc`, `Forced TLS?` = `forced tls`), so every spelling
 * the reference lists (open question 8) is accepted.
 * - message-trace: Get-MessageTraceV2 | Export-Csv, or the EAC summary "Export results"
 *   (Received, SenderAddress, RecipientAddress, Subject, Status, ToIP, FromIP, Size, MessageId,
 *   MessageTraceId; Graph's receivedDateTime/fromIP/toIP spellings too).
 * - historical-search: the Enhanced summary report (origin_timestamp_utc, sender_address,
 *   recipient_status, message_subject, total_bytes, message_id, network_message_id,
 *   original_client_ip, directionality, connector_id, delivery_priority).
 * - extended-report: the Extended report / message-tracking-log columns (date_time_utc, client_ip,
 *   connector_id, event_id, network_message_id, recipient_address, return_path, custom_data, …),
 *   imported under `--kind historical-search` or detected automatically.
 * - inbound-report: the EAC Inbound messages report (Date, Connector direction and name, Connector
 *   type, Forced TLS?, No TLS, TLS 1.0, TLS 1.1, TLS 1.2, Volume): aggregate rows, stored as report
 *   rows (audit/inbound-report), not as messages.
 * - email-events: Defender advanced hunting EmailEvents (CSV, JSON lines or a JSON array).
 * Touches: nothing (pure).
 */

export type ExportKind = 'message-trace' | 'historical-search' | 'extended-report' | 'inbound-report' | 'email-events';
export const KIND_FLAGS = ['auto', 'message-trace', 'historical-search', 'inbound-report', 'email-events'] as const;
export type KindFlag = (typeof KIND_FLAGS)[number];

/** A header name reduced to lower-case letters and digits. */
export function normHeader(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

interface KindSpec {
  kind: ExportKind;
  /** Columns that must all be present (each entry: alternatives, normalised). */
  required: readonly (readonly string[])[];
  /** The header row as the reference gives it, for error messages. */
  documented: string;
}

/** In detection order: the Extended report before the Enhanced summary (it has their columns too). */
export const KINDS: readonly KindSpec[] = [
  {
    kind: 'extended-report',
    required: [['datetimeutc', 'datetime'], ['eventid'], ['networkmessageid'], ['recipientaddress']],
    documented: 'date_time_utc, client_ip, connector_id, event_id, network_message_id, recipient_address, return_path, sender_address, custom_data, …',
  },
  {
    kind: 'historical-search',
    required: [['origintimestamputc', 'origintimestamp'], ['senderaddress'], ['recipientstatus'], ['networkmessageid']],
    documented: 'origin_timestamp_utc, sender_address, recipient_status, message_subject, total_bytes, message_id, network_message_id, original_client_ip, directionality, connector_id, delivery_priority',
  },
  {
    kind: 'email-events',
    required: [['timestamp'], ['networkmessageid'], ['recipientemailaddress'], ['sendermailfromaddress', 'senderfromaddress']],
    documented: 'Timestamp, NetworkMessageId, SenderMailFromAddress, SenderFromAddress, SenderIPv4, SenderIPv6, RecipientEmailAddress, Subject, EmailDirection, DeliveryAction, DeliveryLocation, AuthenticationDetails, Connectors',
  },
  {
    kind: 'message-trace',
    required: [['received', 'receiveddatetime', 'receivedtime', 'date'], ['senderaddress'], ['recipientaddress'], ['status']],
    documented: 'Received, SenderAddress, RecipientAddress, Subject, Status, ToIP, FromIP, Size, MessageId, MessageTraceId',
  },
  {
    kind: 'inbound-report',
    required: [['date'], ['connectordirectionandname', 'connectordirection', 'connectorname'], ['connectortype'], ['volume']],
    documented: 'Date, Connector direction and name, Connector type, Forced TLS?, No TLS, TLS 1.0, TLS 1.1, TLS 1.2, Volume',
  },
];

/** The columns a kind lacks in a header (empty when it has them all). */
export function missingColumns(kind: ExportKind, header: ReadonlySet<string>): string[] {
  const spec = KINDS.find((k) => k.kind === kind);
  if (!spec) return [];
  return spec.required.filter((alts) => !alts.some((a) => header.has(a))).map((alts) => alts[0]!);
}

/** The kind a header row belongs to, or undefined. */
export function detectKind(header: ReadonlySet<string>): ExportKind | undefined {
  return KINDS.find((k) => missingColumns(k.kind, header).length === 0)?.kind;
}

/** The text of the "unknown shape" error: what was found and what each kind expects. */
export function unknownShapeMessage(file: string, found: readonly string[], asked?: ExportKind): string {
  const lines = [
    asked
      ? `${file}: not a ${asked} export: missing column(s) ${missingColumns(asked, new Set(found.map(normHeader))).join(', ')}`
      : `${file}: the header row matches no supported export`,
    `  found columns: ${found.length ? found.slice(0, 30).join(', ') : '(none)'}`,
    '  supported exports and the columns they need (case-insensitive):',
  ];
  for (const k of KINDS) lines.push(`  - ${k.kind === 'extended-report' ? 'historical-search (Extended report)' : k.kind}: ${k.documented}`);
  return lines.join('\n');
}

/** Resolve a `--kind` flag to the kind(s) it may be. */
export function kindsForFlag(flag: KindFlag): readonly ExportKind[] | undefined {
  if (flag === 'auto') return undefined;
  if (flag === 'historical-search') return ['historical-search', 'extended-report'];
  return [flag];
}
