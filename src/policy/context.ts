/**
 * @module policy/context
 * The shared shape of a policy check: the facts and compiled config it reads (CheckContext) and the
 * refusal it may return (Refusal). Each check file exports one or two `Check` functions; evaluate.ts
 * runs them in order and turns the first Refusal into a Verdict. Also resolves the listener a session
 * arrived on, failing closed when the listener is not in the snapshot.
 * Touches: nothing (pure: no I/O, no clock, no process.env).
 */
import { compileCidrs } from '../core/cidr.ts';
import type { ConnectorMatch } from './attribute.ts';
import type { Attribution, CompiledListener, PolicyInput, PolicyReplyKey, PolicySnapshot } from './types.ts';

/** Everything a check may read. Built once per evaluate() call. */
export interface CheckContext {
  readonly input: PolicyInput;
  readonly snap: PolicySnapshot;
  readonly listener: CompiledListener;
  readonly attribution: Attribution;
  /** The inbound connector the facts match (even when the attribution is relay-denied). */
  readonly match: ConnectorMatch | undefined;
}

/** A check's refusal: the reply key, a short machine reason, and values for the reply text. */
export interface Refusal {
  /** quarantine: accept into hold (the reply key then only documents why). */
  action: 'reject' | 'tempfail' | 'quarantine';
  reply: PolicyReplyKey;
  reason: string;
  vars?: Record<string, string>;
}

/**
 * One check. Returns a Refusal, or undefined to let the stage continue; it may push short reasons
 * to `notes` explaining why it let the message through (e.g. 'relay:accepted-domain').
 */
export type Check = (ctx: CheckContext, notes: string[]) => Refusal | undefined;

/** Build a permanent refusal (5xx). */
export function reject(reply: PolicyReplyKey, reason: string, vars?: Record<string, string>): Refusal {
  return vars ? { action: 'reject', reply, reason, vars } : { action: 'reject', reply, reason };
}

/** Build a temporary refusal (4xx). */
export function tempfail(reply: PolicyReplyKey, reason: string, vars?: Record<string, string>): Refusal {
  return vars ? { action: 'tempfail', reply, reason, vars } : { action: 'tempfail', reply, reason };
}

/**
 * Stands in for a listener that is not in the snapshot (a config swap removed it while sessions were
 * open, or a caller bug). DECISION: fail closed — remoteIPRanges matches nobody, so the connect and
 * mail stages answer 'client-not-permitted'; defaultDeny on for good measure.
 */
const CLOSED_LISTENER: CompiledListener = Object.freeze({
  name: '',
  role: 'mx',
  remoteIPRanges: compileCidrs([]),
  requireAuth: false,
  defaultDeny: true,
  maxRecipients: 1,
});

/** The compiled listener the session arrived on, or a closed stand-in when unknown. */
export function listenerOf(input: PolicyInput, snap: PolicySnapshot): CompiledListener {
  return Object.hasOwn(snap.listeners, input.listener) ? (snap.listeners[input.listener] ?? CLOSED_LISTENER) : CLOSED_LISTENER;
}
