/**
 * @module trace/trace-store
 * The TraceStore interface: what the rest of mailgate asks of a trace, whichever engine holds it
 * (stores/sqlite: one node's file; stores/postgres: one table set for a fleet, every row carrying
 * its node). Async, so a remote engine fits; the SQL dialect lives only in the adapters.
 * Writes are idempotent: a message is upserted by id, an event carrying `seq` (its writer's own
 * sequence, e.g. the local trace_event id an outbox ships) is written once per (node, seq), so a
 * retried batch never duplicates. Reports read through the row primitives below and aggregate in
 * trace/reports (pure), so both adapters give the same results.
 * Touches: nothing (interface and the replay fact columns).
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

/** Gateway messages of a dashboard window by bucket index, attribution ('' for none), refused (1/0) and a refusal's reply head (12 characters). */
export interface DashboardGroup {
  b: number;
  a: string;
  rejected: number;
  r: string | null;
  c: number;
}

/** One Direct Send source of a dashboard window (trace/reports/dashboard marks it new). */
export interface DashboardSource {
  clientIp: string;
  /** HELO, MAIL FROM and subject of the source's latest message (ties: the highest id). */
  helo: string | null;
  mailFrom: string | null;
  subject: string | null;
  messages: number;
  /** First Direct Send from this address ever recorded. */
  firstSeen: number;
  lastSeen: number;
}

export interface FailureRow {
  messageId: string;
  at: number;
  recipient: string | null;
  detail: string | null;
  mailFrom: string | null;
  subject: string | null;
}

/** Delivery failures and deferrals of a window, with the latest failures (newest first). */
export interface DashboardFailures {
  failed: number;
  deferred: number;
  recent: FailureRow[];
}

/** RULE events of a window with the same detail: how many and the latest (trace/reports/rule-hits parses them). */
export interface RuleEventGroup {
  detail: string | null;
  n: number;
  last: number;
}

/** A message one transport rule hit (a RULE event with its message's columns, '' for none). */
export interface RuleHitSample {
  id: string;
  at: number;
  clientIp: string;
  mailFrom: string;
  headerFrom: string;
  subject: string;
  attribution: string;
  /** The RULE event's detail. */
  detail: string;
}

/** A Direct Send (IP, sender) pair of an alert window, and whether each was seen as Direct Send before its first message here. */
export interface NewSourceRow {
  ip: string;
  sender: string | null;
  /** First message of the pair in the window. */
  at: number;
  n: number;
  ipSeen: boolean;
  /** False for no sender or an empty one. */
  senderSeen: boolean;
}

/** Refusals with 5.7.51 of an alert window by claimed domain (lower case, after the '@'; null without a sender). */
export interface DriftGroup {
  domain: string | null;
  n: number;
  ips: number;
  last: number;
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

/** The fact columns, in ReplayFacts' order (both adapters group on them). */
export const REPLAY_FACT_COLUMNS = ['client_ip', 'helo', 'listener', 'tls_version', 'cert_cn', 'cert_sans', 'cert_verified', 'auth_user', 'mail_from', 'header_from', 'recipients'] as const;

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
  /** Delete the rows of import `name` (`audit remove`) with their events; the messages deleted. */
  removeImport(name: string): Promise<number>;
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
  // dashboard, rule hits, alerts
  /** The dashboard's traffic groups (gateway rows of [since, until), bucket = (received_at - since) / bucketMs). */
  dashboardGroups(w: { since: number; until: number; bucketMs: number }): Promise<DashboardGroup[]>;
  /** The window's gateway Direct Send sources, most messages first then IP (byte order), at most `limit`. */
  dashboardSources(w: { since: number; until: number }, limit: number): Promise<DashboardSource[]>;
  /** FAIL and DEFER events of the window; the latest `limit` failures (newest, then message id and recipient descending). */
  dashboardFailures(w: { since: number; until: number }, limit: number): Promise<DashboardFailures>;
  /** RULE events of [since, until) grouped by detail. */
  ruleEventGroups(since: number, until: number): Promise<RuleEventGroup[]>;
  /** The latest `limit` messages rule `rule` hit in `mode` in [since, until), newest first (ties: the latest written, i.e. the writer's sequence descending). */
  ruleHitSamples(rule: string, mode: string, since: number, until: number, limit: number): Promise<RuleHitSample[]>;
  /** Oldest Direct Send message (any source), or undefined. */
  firstDirectSend(): Promise<number | undefined>;
  /** Direct Send (IP, sender) pairs of [since, until) by first time, then IP and sender (byte order, none first); at most `limit`. */
  newSourceRows(since: number, until: number, limit: number): Promise<NewSourceRow[]>;
  /** Refusals with 5.7.51 of [since, until) by claimed domain; at most `limit` domains. */
  driftGroups(since: number, until: number, limit: number): Promise<DriftGroup[]>;
  /** UTC days of [from, until) on which `connector` matched mail, and whether it matched any at or after `until`. */
  connectorDays(connector: string, from: number, until: number): Promise<{ days: number; after: boolean }>;
  /** Refusals of [since, until) by the reply's first 14 characters (null: no reply). */
  refusalHeads(since: number, until: number): Promise<{ head: string | null; n: number }[]>;
  // replay, audit plan, saved hunts
  /** Policy replay's facts: the window's gateway rows as distinct fact tuples with counts and samples. */
  replayFacts(scope: ReplayScope, opts: { samples: number }): AsyncIterable<ReplayFactGroup>;
  /** Rows of the window (of the source): the audit plan's "rows in the window". */
  rowCount(scope: RowScope): Promise<number>;
  /** A saved hunt's text (trace/hunt SAVED_HUNTS' names) in the engine's dialect, for `hunt`; undefined for an unknown name. */
  savedHuntText(name: string): string | undefined;
}
