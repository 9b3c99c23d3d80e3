/**
 * @module trace/reports
 * The public surface of the trace reports (one file per report): Inbound messages, Direct Send
 * readiness (with its classification rules), stale connectors and allow-list entries, transport
 * rule hits (RULE events), the dashboard's series; the shared report window (clamped to retention)
 * and shapes.
 * Touches: nothing itself (the reports read a TraceStore).
 */
export * from './common.ts';
export { inboundReportFrom, inboundConditions, type InboundFilter, type ConnectorTypeFilter, type InboundTlsFilter } from './inbound.ts';
export { directSendReportFrom, DIRECT_SEND_COLUMNS, type DirectSendOptions, type DirectSendSource } from './direct-send.ts';
export {
  classifySource,
  foreignHelos,
  natWarning,
  sharedServiceOf,
  unknownSpfAuthorizer,
  type Classification,
  type ClassifyResult,
  type SpfAuthorization,
  type SpfAuthorizer,
} from './direct-send-classify.ts';
export { recommend, connectorNameFor, shellWord, psString, psArg, type Recommendation, type RecommendAction } from './direct-send-recommend.ts';
export { exchangeFlags, type Evidence } from './direct-send-evidence.ts';
export { emptyWindowNoteFrom, sourceWindowFrom, type SourceSpan, type SourceWindowInput } from './coverage.ts';
export { staleAllowReportFrom, type StaleAllowInput, type StaleEntry } from './stale-allow.ts';
export { egressGoneReportFrom, EGRESS_GONE_COLUMNS, type EgressGoneOptions, type EgressGoneSource, type EgressGoneStatus } from './egress-gone.ts';
export { countRuleHits, matchRuleHit, parseRuleDetail, ruleHitCountsFrom, ruleLikePattern, type RuleHitCount, type RuleHitDetail, type RuleHitSample } from './rule-hits.ts';
export { aggregateTraffic, dashboardFrom, markNew, replyCode, DASHBOARD_ATTRIBUTIONS, type DashboardAttribution, type DashboardWindow, type TrafficSeries, type DirectSendSourceRow, type FailureRow } from './dashboard.ts';
