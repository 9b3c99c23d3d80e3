/**
 * @module alerts
 * The public surface of alerts/: the engine the queue owner runs, the store interface ops/ lists
 * and acks through (adapters in stores/), the webhook signature.
 * Touches: nothing.
 */
export { AlertEngine, alertPayload, FREQUENT_RULES, HOURLY_RULES, NODE_LOCAL_KINDS, TRACE_RULES, type AlertEngineDeps, type RuleSet } from './engine.ts';
export type { AlertRow, AlertStore, NotifyClaim } from './store.ts';
export { ALERT_KINDS, type AlertKind, type Candidate, type FleetTrace, type QueueFacts, type Rule, type RuleContext, type TraceRule } from './types.ts';
export { postWebhook, signBody, SIGNATURE_HEADER, type WebhookOptions, type WebhookResult } from './webhook.ts';
export { CONFIG_LAG_MS, NODE_SILENT_MS, fleetProblems } from './rules/fleet.ts';
