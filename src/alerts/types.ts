/**
 * @module alerts/types
 * The vocabulary of alerts: what a rule finds (a Candidate, keyed so the same finding is one
 * alert however often it is found) and what it reads (RuleContext, built by the engine in the
 * queue owner; the trace rules read a TraceStore besides).
 * Touches: nothing.
 */
import type { Config } from '../config/schema.ts';
import type { FleetFacts } from '../config/nodes.ts';
import type { TraceStore } from '../trace/index.ts';

export const ALERT_KINDS = ['new-source', 'connector-drift', 'connector-silent', 'stale-allow', 'rejection-spike', 'queue-age', 'deferred-count', 'cert-expiry', 'node-silent', 'node-config-lag'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Candidate {
  kind: AlertKind;
  /** What it is about, unique within its kind (an IP, a connector, a file and threshold, …): the dedup key. */
  key: string;
  /** One line for a human (built from values the rule checked; escaped by each output). */
  summary: string;
  detail: Record<string, unknown>;
  /**
   * When the evidence was seen (a trace row's time). An acknowledged alert of the same kind and
   * key covers evidence seen before its acknowledgement; without it (a state: queue, certificate),
   * an acknowledgement holds for `renotifyMinutes`.
   */
  seenAt?: number | undefined;
}

export interface QueueFacts {
  byState: Record<string, number>;
  /** When the oldest message not yet delivered or bounced was received (undefined when none). */
  oldestOpenAt: number | undefined;
}

export interface RuleContext {
  config: Config;
  now: number;
  /** Start of the period not yet looked at (the last evaluation, less a margin for buffered trace rows). */
  since: number;
  queue?: QueueFacts | undefined;
  /** The fleet's heartbeats (the queue owner reads them before the rules run). */
  fleet?: FleetFacts | undefined;
}

/** A rule over the facts in the context (queue, certificates, heartbeats). */
export type Rule = (ctx: RuleContext) => Candidate[];

/** A rule over a trace: the node's own (a single node) or the fleet's (on the lock holder). */
export type TraceRule = (ctx: RuleContext, trace: TraceStore) => Promise<Candidate[]>;

/** The fleet's shared trace, and which node evaluates the rules that read it. */
export interface FleetTrace {
  trace: TraceStore;
  /** True when this node evaluates the fleet's trace rules now (it holds the fleet's alert lock). */
  leader(): Promise<boolean>;
  /** Give the role up (the engine stops). */
  close(): Promise<void>;
}
