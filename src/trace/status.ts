/**
 * @module trace/status
 * Derives a message's TraceStatus from its delivery events, as Exchange's message trace shows it:
 * every recipient delivered → Delivered; any recipient held → Quarantined; any recipient deferred
 * released or still without an outcome → Pending (Exchange shows deferred mail as Pending); otherwise (all
 * recipients final, at least one FAIL or DELETE) → Failed. Only the latest outcome per recipient counts.
 * Pure: no I/O, no clock.
 * Touches: nothing.
 */
import type { TraceEvent, TraceEventType, TraceStatus } from './events.ts';

/** Events that carry a per-recipient outcome and so change the status. */
export const OUTCOME_EVENTS: readonly TraceEventType[] = Object.freeze(['DEFER', 'DELIVER', 'FAIL', 'QUARANTINE', 'RELEASE', 'DELETE']);

const isOutcome = (t: TraceEventType): boolean => OUTCOME_EVENTS.includes(t);
const isFinal = (t: TraceEventType | undefined): boolean => t === 'DELIVER' || t === 'FAIL' || t === 'DELETE';

/**
 * Recompute a status from the recipients and the events (in the order they happened).
 * A recipient-specific event always sets that recipient's state; an event without a recipient
 * (a whole-message DEFER after a connection failure, a QUARANTINE hold) applies to every
 * recipient that has no final outcome (DELIVER/FAIL) yet. Returns `current` unchanged when no
 * outcome event exists, so Received/Rejected rows keep their status.
 */
export function deriveStatus(
  current: TraceStatus,
  recipients: readonly string[],
  events: readonly Pick<TraceEvent, 'event' | 'recipient'>[],
): TraceStatus {
  const outcomes = events.filter((e) => isOutcome(e.event));
  if (outcomes.length === 0) return current;

  const state = new Map<string, TraceEventType | undefined>();
  for (const r of recipients) state.set(r.toLowerCase(), undefined);
  for (const e of outcomes) if (e.recipient) state.set(e.recipient.toLowerCase(), undefined);
  if (state.size === 0) state.set('', undefined); // no known recipient: track the message as one

  for (const e of outcomes) {
    if (e.recipient) {
      state.set(e.recipient.toLowerCase(), e.event);
      continue;
    }
    for (const [rcpt, last] of state) if (!isFinal(last)) state.set(rcpt, e.event);
  }

  const latest = [...state.values()];
  if (latest.every((t) => t === 'DELIVER')) return 'Delivered';
  if (latest.some((t) => t === 'QUARANTINE')) return 'Quarantined';
  // Released from quarantine: on its way (Pending) until its own DELIVER/FAIL; deleted: Failed.
  if (latest.some((t) => t === 'DEFER' || t === 'RELEASE' || t === undefined)) return 'Pending';
  return 'Failed';
}
