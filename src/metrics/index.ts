/**
 * @module metrics
 * The public surface of metrics/: the per-process registry and the merged scrape.
 * Touches: nothing.
 */
export { GatewayMetrics, MAX_CHILDREN, OTHER, type DnsCounts, type OwnerGauges, type RuleHitCounter, type TransactionOutcome } from './registry.ts';
export { EXPOSITION_CONTENT_TYPE, mergedExposition, type MetricsJson } from './aggregate.ts';
export { replyCode } from './reply-code.ts';
