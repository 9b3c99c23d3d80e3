/**
 * @module queue/quarantine-reason
 * Why a message is in quarantine (queue state hold with a reason): a transport rule's action, the
 * sender domain's DMARC p=quarantine, an admin's hold, or a malware-class verdict (which a recipient
 * can never request to release). Stored in the message's facts (`facts.quarantine`) and in its
 * QUARANTINE trace event, so `quarantine list|show` and the trace say the same thing.
 * Touches: nothing.
 */

export type QuarantineKind = 'rule' | 'dmarc' | 'admin' | 'malware';

export interface QuarantineReason {
  kind: QuarantineKind;
  /** The transport rule that quarantined it (kind 'rule'). */
  rule?: string | undefined;
  /** A short text for people: "rule Direct Send quarantine", "DMARC p=quarantine of example.net". */
  text: string;
}
