/**
 * @module trace
 * The public surface of trace/: the event and row shapes, the SQLite store (schema and the
 * synchronous inserts the queue uses inside its commit), the buffered TraceWriter every other
 * stage appends to, searches, time windows and retention; the async TraceStore interface the
 * adapters (stores/) implement.
 * Touches: nothing itself (see each module).
 */
export type { TraceEvent, TraceEventType, TraceMessage, TraceSink, TraceStatus } from './events.ts';
export { dropIndexesForBulkLoad, ensureTraceSchema, leaveWalForBulkLoad, insertEventsSync, insertMessageSync, readEvents, readMessage, traceReady, type BulkLoad } from './store.ts';
export { deriveStatus, OUTCOME_EVENTS } from './status.ts';
export { TraceWriter, type TraceWriterOptions } from './writer.ts';
export { buildTraceQuery, DEFAULT_SEARCH_LIMIT, searchLimit, type SearchDialect, type TlsFilter, type TraceFilter, type TraceQuery } from './search.ts';
export { TraceShipper, type OutboxBacklog, type OutboxSource, type ShipperOptions } from './shipper.ts';
export { REPLAY_FACT_COLUMNS } from './trace-store.ts';
export type { DashboardFailures, DashboardGroup, DashboardSource, DirectSendRow, DriftGroup, EgressGroups, FailureRow, ImportFields, InboundFilter, InboundGroup, LeftOutCounts, NewSourceRow, ReplayFactGroup, ReplayFacts, ReplaySample, ReplayScope, RowScope, RuleEventGroup, RuleHitSample, SequencedEvent, SourceSpan, TraceBatch, TraceStore, TrafficGroups } from './trace-store.ts';
export { parseDurationMs, parseSince } from './window.ts';
export { DEFAULT_PRUNE_BATCH, pruneTrace, retentionCutoff } from './retention.ts';
export { exoVerdictsText, parseExoVerdicts, spamFilterFields, EXO_VERDICT_FIELD, type ExoVerdicts } from './exo-verdicts.ts';
