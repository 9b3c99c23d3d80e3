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
 * - email-events: Defender advanced hunting EmailEvents (CSV, JSON lines or a JSON array; the Graph
 *   runHuntingQuery and streaming envelopes are unwrapped first by audit/forms).
 * - change-optics: the EAC Change Optics detail grid export (Message ID, Sender, Recipient, Subject,
 *   Time Stamp, Tag, Details): samples tagged DRS (Direct Send) or OMC (onmicrosoft.com sent outside).
 * A header that is none of these is refused naming the closest kind (the one with most of its
 * required columns present, then most of its documented columns) and the columns it lacks.
 * Touches: nothing (pure).
 */

export type ExportKind = 'message-trace' | 'historical-search' | 'extended-report' | 'inbound-report' | 'email-events' | 'change-optics';
export const KIND_FLAGS = ['auto', 'message-trace', 'historical-search', 'inbound-report', 'email-events', 'change-optics'] as const;
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
  /** The timestamp columns, in preference order (normalised); the date format is detected on them. */
  time: readonly string[];
}

/** In detection order: the Extended report before the Enhanced summary (it has their columns too). */
export const KINDS: readonly KindSpec[] = [
  {
    kind: 'extended-report',
    required: [['datetimeutc', 'datetime'], ['eventid'], ['networkmessageid'], ['recipientaddress']],
    documented: 'date_time_utc, client_ip, connector_id, event_id, network_message_id, recipient_address, return_path, sender_address, custom_data, …',
    time: ['datetimeutc', 'datetime'],
  },
  {
    kind: 'historical-search',
    required: [['origintimestamputc', 'origintimestamp'], ['senderaddress'], ['recipientstatus'], ['networkmessageid']],
    documented: 'origin_timestamp_utc, sender_address, recipient_status, message_subject, total_bytes, message_id, network_message_id, original_client_ip, directionality, connector_id, delivery_priority',
    time: ['origintimestamputc', 'origintimestamp'],
  },
  {
    kind: 'email-events',
    required: [['timestamp'], ['networkmessageid'], ['recipientemailaddress'], ['sendermailfromaddress', 'senderfromaddress']],
    documented: 'Timestamp, NetworkMessageId, SenderMailFromAddress, SenderFromAddress, SenderIPv4, SenderIPv6, RecipientEmailAddress, Subject, EmailDirection, DeliveryAction, DeliveryLocation, AuthenticationDetails, Connectors',
    time: ['timestamp', 'timegenerated'],
  },
  {
    kind: 'change-optics',
    required: [['timestamp'], ['messageid'], ['sender'], ['recipient'], ['tag']],
    documented: 'Message ID, Sender, Recipient, Subject, Time Stamp, Tag, Details',
    time: ['timestamp'],
  },
  {
    kind: 'message-trace',
    required: [['received', 'receiveddatetime', 'receivedtime', 'date'], ['senderaddress'], ['recipientaddress'], ['status']],
    documented: 'Received, SenderAddress, RecipientAddress, Subject, Status, ToIP, FromIP, Size, MessageId, MessageTraceId',
    time: ['received', 'receiveddatetime', 'receivedtime', 'date'],
  },
  {
    kind: 'inbound-report',
    required: [['date'], ['connectordirectionandname', 'connectordirection', 'connectorname'], ['connectortype'], ['volume']],
    documented: 'Date, Connector direction and name, Connector type, Forced TLS?, No TLS, TLS 1.0, TLS 1.1, TLS 1.2, Volume',
    time: ['date'],
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

/** The spec of a kind. */
export function kindSpec(kind: ExportKind): KindSpec {
  return KINDS.find((k) => k.kind === kind)!;
}

/** The kind's documented column names, for messages (`Time Stamp`, `origin_timestamp_utc`). */
function documentedNames(spec: KindSpec): string[] {
  return spec.documented.split(',').map((c) => c.trim()).filter((c) => c !== '…');
}

/** A required column as the export spells it (the documented name whose normalised form is one of the alternatives). */
function displayName(spec: KindSpec, alts: readonly string[]): string {
  return documentedNames(spec).find((d) => alts.includes(normHeader(d))) ?? alts[0]!;
}

/** The kind a header is closest to: most required columns present, then most documented columns. */
export function closestKind(header: ReadonlySet<string>, among: readonly ExportKind[] = KINDS.map((k) => k.kind)): { kind: ExportKind; missing: string[] } {
  let best: { kind: ExportKind; missing: string[]; score: number } | undefined;
  for (const k of KINDS) {
    if (!among.includes(k.kind)) continue;
    const missing = k.required.filter((alts) => !alts.some((a) => header.has(a)));
    const documented = documentedNames(k).filter((d) => header.has(normHeader(d))).length;
    const score = (k.required.length - missing.length) * 1000 + documented;
    if (!best || score > best.score) best = { kind: k.kind, missing: missing.map((alts) => displayName(k, alts)), score };
  }
  return { kind: best!.kind, missing: best!.missing };
}

/** The text of the "unknown shape" error: the closest kind and what it lacks, then what each kind expects. */
export function unknownShapeMessage(file: string, found: readonly string[], asked?: readonly ExportKind[]): string {
  const set = new Set(found.map(normHeader));
  const near = closestKind(set, asked);
  const label = (k: ExportKind): string => (k === 'extended-report' ? 'historical-search (Extended report)' : k);
  const lines = [
    asked
      ? `${file}: not a ${label(near.kind)} export: missing column(s) ${near.missing.join(', ')}`
      : found.length
        ? `${file}: the header row matches no supported export; closest: ${label(near.kind)}, which also needs column(s) ${near.missing.join(', ')}`
        : `${file}: no header row: the file holds no record`,
    `  found columns: ${found.length ? found.slice(0, 30).join(', ') : '(none)'}`,
    '  supported exports and the columns they need (case-insensitive):',
  ];
  for (const k of KINDS) lines.push(`  - ${label(k.kind)}: ${k.documented}`);
  return lines.join('\n');
}

/**
 * Other spellings of a kind's columns, normalised (alias → the name the mappers read): the Graph
 * message trace resource calls MessageTraceId `id`.
 */
export const COLUMN_ALIASES: Partial<Record<ExportKind, readonly (readonly [string, string])[]>> = {
  'message-trace': [['id', 'messagetraceid']],
};

/** Resolve a `--kind` flag to the kind(s) it may be. */
export function kindsForFlag(flag: KindFlag): readonly ExportKind[] | undefined {
  if (flag === 'auto') return undefined;
  if (flag === 'historical-search') return ['historical-search', 'extended-report'];
  return [flag];
}
