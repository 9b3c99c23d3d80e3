/**
 * @module queue/attempt
 * Pure rules for one delivery attempt, used by the scheduler: retry backoff, making the agent's
 * answer total (exactly one outcome per requested recipient), expiry of old messages, and the
 * trace events an attempt produces.
 * Touches: nothing.
 * RFCs: RFC 3463 (4.4.7 delivery time expired; 4.3.0 local error), RFC 5321 §4.5.4.1 (retry
 * strategy: back off, give up after a few days).
 */
import type { TraceEvent, TraceEventType } from '../trace/events.ts';
import type { RecipientOutcome, RecipientStatus } from './contract.ts';
import { formatOutcome } from './store.ts';

/** Delay before the next attempt after attempt number `attempt` (1-based), in ms. */
export function backoffMs(attempt: number, initialSeconds: number, maxSeconds: number): number {
  const exp = Math.max(0, attempt - 1);
  const seconds = exp > 52 ? maxSeconds : Math.min(initialSeconds * 2 ** exp, maxSeconds);
  return seconds * 1000;
}

/** The outcome used for every recipient when the agent throws or answers nonsense. */
export function agentErrorOutcome(rcpt: string, err: unknown): RecipientOutcome {
  const text = err instanceof Error ? err.message : String(err);
  return { rcpt, status: 'deferred', enhanced: '4.3.0', reply: `delivery agent error: ${text}` };
}

/** Exactly one outcome per requested recipient, in request order; missing ones are deferred. */
export function normalizeOutcomes(outcomes: RecipientOutcome[], requested: string[]): RecipientOutcome[] {
  const byRcpt = new Map<string, RecipientOutcome>();
  for (const o of outcomes) if (!byRcpt.has(o.rcpt)) byRcpt.set(o.rcpt, o);
  return requested.map(
    (rcpt) => byRcpt.get(rcpt) ?? { rcpt, status: 'deferred', enhanced: '4.3.0', reply: 'no outcome from delivery agent' },
  );
}

/** True when a message received at `receivedAt` has been queued longer than `maxAgeSeconds`. */
export function isExpired(receivedAt: number, now: number, maxAgeSeconds: number): boolean {
  return now - receivedAt >= maxAgeSeconds * 1000;
}

/** Turn deferred outcomes into permanent failures "4.4.7 message expired" (RFC 3463). */
export function expireOutcomes(outcomes: RecipientOutcome[]): RecipientOutcome[] {
  return outcomes.map((o) =>
    o.status === 'deferred'
      ? { ...o, status: 'failed', code: undefined, enhanced: '4.4.7', reply: `message expired; last error: ${formatOutcome(o)}` }
      : o,
  );
}

const EVENT_OF: Record<RecipientStatus, TraceEventType> = {
  delivered: 'DELIVER',
  deferred: 'DEFER',
  failed: 'FAIL',
};

/** One trace event per recipient outcome (DELIVER / DEFER / FAIL, the reply as detail). */
export function outcomeEvents(queueId: string, outcomes: RecipientOutcome[], at: number): TraceEvent[] {
  return outcomes.map((o) => ({
    messageId: queueId,
    at,
    event: EVENT_OF[o.status],
    recipient: o.rcpt,
    detail: o.nextHop ? `${formatOutcome(o)} (${o.nextHop})` : formatOutcome(o),
  }));
}
