/**
 * @module trace/reports
 * The public surface of the trace reports (one file per report): Inbound messages, Direct Send
 * readiness (with its classification rules), stale connectors and allow-list entries, transport
 * rule hits (RULE events), the dashboard's series; the shared report window (clamped to retention)
 * and shapes.
 * Touches: nothing itself (each report reads the trace tables).
 */
export * from './common.ts';
export { inboundReport, inboundReportFrom, inboundConditions, type InboundFilter, type ConnectorTypeFilter, type InboundTlsFilter } from './inbound.ts';
export { directSendReport, directSendReportFrom, DIRECT_SEND_COLUMNS, type DirectSendOptions, type DirectSendSource } from './direct-send.ts';
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
export { emptyWindowNote, emptyWindowNoteFrom, rowCountSync, sourceSpans, sourceWindow, sourceWindowFrom, type SourceSpan, type SourceWindowInput } from './coverage.ts';
export { staleAllowReport, staleAllowReportFrom, type StaleAllowInput, type StaleEntry } from './stale-allow.ts';
export { egressGoneReport, egressGoneReportFrom, EGRESS_GONE_COLUMNS, type EgressGoneOptions, type EgressGoneSource, type EgressGoneStatus } from './egress-gone.ts';
export { sqliteReportRows, type ReportRows } from './sqlite-rows.ts';
export { countRuleHits, matchRuleHit, parseRuleDetail, ruleEventGroupsSync, ruleHitCounts, ruleHitCountsFrom, ruleHitSamples, ruleLikePattern, type RuleHitCount, type RuleHitDetail, type RuleHitSample } from './rule-hits.ts';
export { aggregateTraffic, dashboardFrom, dashboardGroupsSync, dashboardSourcesSync, markNew, dashboardTraffic, dashboardDirectSend, dashboardFailures, replyCode, DASHBOARD_ATTRIBUTIONS, type DashboardAttribution, type DashboardWindow, type TrafficSeries, type DirectSendSourceRow, type FailureRow } from './dashboard.ts';
export { sqliteAlertRows, type AlertRowsSync } from './alert-rows.ts';
