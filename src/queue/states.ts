/**
 * @module queue/states
 * The queue's state machine (Postfix's named queues): the states a message row can be in and the
 * one table of allowed transitions. Every state change in store.ts goes through assertTransition.
 *   incoming  accepted, waiting for its first attempt (or released from hold, or recovered)
 *   active    claimed by the scheduler; an attempt is in flight (bounded window)
 *   deferred  some recipients got a temporary failure; waits for next_attempt
 *   hold      quarantined / held by an admin; never scheduled until released
 *   done      every recipient delivered (final)
 *   bounced   no recipient left to try and at least one failed; a DSN was queued (final)
 * Touches: nothing.
 * RFCs: none.
 */

export const QUEUE_STATES = ['incoming', 'active', 'deferred', 'hold', 'done', 'bounced'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** States no transition leaves. */
export const FINAL_STATES: readonly QueueState[] = ['done', 'bounced'];

/**
 * Allowed transitions.
 * - active → hold is refused: an admin hold of a message mid-attempt waits until the attempt ends
 *   (Postfix does the same); hold it from deferred/incoming instead.
 * - hold → incoming is "release"; a released message is due at once.
 * - deferred → incoming is "requeue" (postsuper -r): retry from scratch, due at once.
 * - active → incoming is crash recovery only (recoverActive at start).
 */
const TRANSITIONS: Readonly<Record<QueueState, readonly QueueState[]>> = {
  incoming: ['active', 'hold'],
  active: ['done', 'deferred', 'bounced', 'incoming'],
  deferred: ['active', 'hold', 'incoming'],
  hold: ['incoming'],
  done: [],
  bounced: [],
};

/** Raised for a transition the table does not allow. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly from: QueueState,
    readonly to: QueueState,
  ) {
    super(`illegal queue transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/** True when `s` is one of the queue states. */
export function isQueueState(s: string): s is QueueState {
  return (QUEUE_STATES as readonly string[]).includes(s);
}

/** True when the table allows from → to. */
export function canTransition(from: QueueState, to: QueueState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws IllegalTransitionError unless from → to is allowed. */
export function assertTransition(from: QueueState, to: QueueState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** True for done and bounced. */
export function isFinal(s: QueueState): boolean {
  return FINAL_STATES.includes(s);
}

/** The states a transition may lead to from `from` (for CLI help and tests). */
export function nextStates(from: QueueState): readonly QueueState[] {
  return TRANSITIONS[from];
}
