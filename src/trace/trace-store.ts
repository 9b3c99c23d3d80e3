/**
 * @module trace/trace-store
 * The TraceStore interface: what the rest of mailgate asks of a trace, whichever engine holds it
 * (stores/sqlite: one node's file; stores/postgres: one table set for a fleet, every row carrying
 * its node). Async, so a remote engine fits; the SQL dialect lives only in the adapters.
 * Writes are idempotent: a message is upserted by id, an event carrying `seq` (its writer's own
 * sequence, e.g. the local trace_event id an outbox ships) is written once per (node, seq), so a
 * retried batch never duplicates. Reports read through the row primitives below and aggregate in
 * trace/reports (pure), so both adapters give the same results.
 * Touches: nothing (interface).
 */
import type { TraceEvent, TraceMessage } from './events.ts';
import type { TraceFilter } from './search.ts';
import type { HuntResult } from './hunt.ts';

/** An event with its writer's sequence number (idempotence key with the node). */
export type SequencedEvent = TraceEvent & { seq?: number | undefined };

/**
 * What an imported row (audit/) carries besides a TraceMessage: its dedupe key, the import's name
 * (imported rows outlive retention) and Exchange's own verdicts (JSON, trace/exo-verdicts).
 */
export interface ImportFields {
  importKey?: string | undefined;
  importName?: string | undefined;
  exoVerdicts?: string | undefined;
}

/** One unit of writes: committed together or not at all. */
export interface TraceBatch {
  /** The node that produced the rows (fleet stores record it; SQLite ignores it). */
  node?: string | undefined;
  /** Import fields are kept when a later write of the row has none. The SQLite adapter ignores them (audit/ writes its own). */
  messages: readonly (TraceMessage & ImportFields)[];
  events: readonly SequencedEvent[];
}

/** A report's window and source, as the row primitives take them. */
export interface RowScope {
  since: number;
  until: number;
  /** Only rows of this source ('gateway' or 'import:<name>'). */
  source?: string | undefined;
}

/** The columns the Direct Send readiness report reads (trace/reports/direct-send). */
export interface DirectSendRow {
  client_ip: string;
  mail_from: string | null;
  received_at: number;
  helo: string | null;
  subject: string | null;
  tls_version: string | null;
  recipients: string;
  spf: string | null;
  dkim: string | null;
  dmarc: string | null;
  compauth: string | null;
  exo_verdicts?: string | null | undefined;
  cert_cn: string | null;
  cert_verified: number | null;
  reply: string | null;
}

/** Rows and first/last time of one source. */
export interface SourceSpan {
  source: string;
  rows: number;
  first: number;
  last: number;
}

/** Imported copies that are never Direct Send, by why. */
export interface LeftOutCounts {
  connector: number;
  direction: number;
  noIp: number;
}

export type ConnectorTypeFilter = 'none' | 'partner' | 'onpremises';
export type InboundTlsFilter = 'none' | '1.0' | '1.1' | '1.2' | '1.3';

/** The Inbound messages report's filters (trace/reports/inbound). */
export interface InboundFilter {
  connectorType?: ConnectorTypeFilter | undefined;
  /** Connector name (case-insensitive) or 'none'. */
  connector?: string | undefined;
  tls?: InboundTlsFilter | undefined;
  attribution?: string | undefined;
  /** Only rows of this source ('gateway' or 'import:<name>'). */
  source?: string | undefined;
}

/** Messages of one UTC day, connector, connector type and TLS version ('' for none). */
export interface InboundGroup {
  day: string;
  connector: string;
  connector_type: string;
  tls_version: string;
  messages: number;
  rejected: number;
}

/** Traffic counts the stale-allow report matches entries against (trace/reports/stale-allow). */
export interface TrafficGroups {
  byConnIp: { connector: string; client_ip: string; n: number; last: number }[];
  byIp: { client_ip: string; n: number; last: number }[];
  /** By MAIL FROM domain (lower case, after the first '@'). */
  byDomain: { d: string; n: number; last: number }[];
}

/** Per client IP around an egress block (trace/reports/egress-gone), and its senders by source. */
export interface EgressGroups {
  rows: { client_ip: string; before: number; after: number; direct_after: number; last: number }[];
  /** By client IP, lower-cased sender ('' for none) and source, most messages first, then sender and source (byte order). */
  detail: { client_ip: string; sender: string; src: string; n: number }[];
}

/** The facts policy replay reads of a gateway row (trace_message columns, as stored). */
export interface ReplayFacts {
  client_ip: string;
  helo: string | null;
  listener: string;
  tls_version: string | null;
  cert_cn: string | null;
  /** JSON array of strings. */
  cert_sans: string | null;
  cert_verified: number | null;
  auth_user: string | null;
  mail_from: string | null;
  header_from: string | null;
  /** JSON array of strings. */
  recipients: string;
}

/** The gateway rows (source gateway or none) of a window that policy replay reads. */
export interface ReplayScope {
  since: number;
  until: number;
  /** Only rows from these client IPs, or with this verified client certificate CN. */
  match?: { ips: readonly string[]; certCn?: string | undefined } | undefined;
}

/** One row of a replay group: its id, time and subject. */
export interface ReplaySample {
  id: string;
  at: number;
  subject: string | null;
}

/**
 * The gateway rows of a window sharing every replayed fact: the row's facts and the recipients
 * refused one by one (REJECT events at or after the window's start, by time then address). A
 * store may split one tuple over several groups (counts add up); never merges different tuples.
 */
export interface ReplayFactGroup {
  facts: ReplayFacts;
  refused: string[];
  /** Rows with these facts. */
  count: number;
  /** The group's first rows by (received_at, id), at most the `samples` asked for. */
  samples: ReplaySample[];
}

export interface TraceStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Upsert messages and append events (status re-derived from outcome events), atomically. */
  write(batch: TraceBatch): Promise<void>;
  /** trace/search's filters, newest first, `limit` exact. Throws on an invalid filter. */
  search(filter?: TraceFilter): Promise<TraceMessage[]>;
  /** One message with its events, oldest first. */
  show(id: string): Promise<{ message: TraceMessage; events: TraceEvent[] } | undefined>;
  /** Retention: rows received before the cutoff go with their events; imported rows stay. */
  prune(cutoffMs: number): Promise<{ messages: number; events: number }>;
  /** Direct Send candidates of a window: attribution direct-send, or refused with 5.7.68. */
  directSendRows(scope: RowScope): AsyncIterable<DirectSendRow>;
  /** Oldest received_at (of a source), or undefined when there is no row. */
  oldest(source?: string): Promise<number | undefined>;
  /** True when the window holds a row (of the source). */
  hasRows(scope: RowScope): Promise<boolean>;
  sourceSpans(source?: string): Promise<SourceSpan[]>;
  /** Imported rows of the window never counted as Direct Send. */
  importLeftOut(scope: RowScope): Promise<LeftOutCounts>;
  /** The Inbound messages report's groups over a window (filter.source narrows). */
  inboundGroups(window: { since: number; until: number }, filter: InboundFilter): Promise<InboundGroup[]>;
  trafficGroups(window: { since: number; until: number }): Promise<TrafficGroups>;
  egressGroups(scope: RowScope, blockAt: number): Promise<EgressGroups>;
  /**
   * Read-only SQL over the trace tables in the engine's own dialect (trace/hunt's guards, row and
   * time limits). Throws HuntRefused (guards, time limit) or the engine's error.
   */
  hunt(sql: string, opts: { limit?: number | undefined; timeoutMs?: number | undefined }): Promise<HuntResult>;
  close(): Promise<void>;
  // replay, audit plan, saved hunts
  /** Policy replay's facts: the window's gateway rows as distinct fact tuples with counts and samples. */
  replayFacts(scope: ReplayScope, opts: { samples: number }): AsyncIterable<ReplayFactGroup>;
  /** Rows of the window (of the source): the audit plan's "rows in the window". */
  rowCount(scope: RowScope): Promise<number>;
  /** A saved hunt's text (trace/hunt SAVED_HUNTS' names) in the engine's dialect, for `hunt`; undefined for an unknown name. */
  savedHuntText(name: string): string | undefined;
}
