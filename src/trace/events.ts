/**
 * @module trace/events
 * The shape of the trace: one TraceMessage row per message (or refused connection/transaction)
 * and its TraceEvents. Column names mirror Exchange's message trace where one exists
 * (status values Delivered / Failed / Pending / Quarantined; events RECEIVE, DEFER, DELIVER, FAIL, …).
 * Touches: nothing.
 */

/** Message status, as Exchange's message trace names it (plus Rejected for refusals at the door). */
export type TraceStatus = 'Received' | 'Pending' | 'Delivered' | 'Failed' | 'Quarantined' | 'Rejected' | 'Deferred';

export type TraceEventType =
  | 'CONNECT_REJECT' // connection refused (scoped listener, blocked IP)
  | 'RECEIVE' // accepted and queued (committed with the queue row)
  | 'REJECT' // a command refused (MAIL/RCPT/DATA/EOD); detail holds the reply
  | 'QUARANTINE'
  | 'RULE'
  | 'DEFER' // temporary delivery failure, per recipient
  | 'DELIVER' // delivered, per recipient
  | 'FAIL' // permanent delivery failure, per recipient
  | 'DSN' // a delivery status notification was queued
  | 'RELEASE' // released from quarantine (detail: who and why; recipient when to one only)
  | 'DELETE'; // deleted from quarantine or the queue (detail: who and why, or expiry)

/** One row per message id. Optional columns are null until known. */
export interface TraceMessage {
  /** Queue id for messages; for refused connections/transactions a generated id of the same form. */
  id: string;
  connectionId: string;
  receivedAt: number;
  clientIp: string;
  clientPort?: number | undefined;
  helo?: string | undefined;
  listener: string;
  tlsVersion?: string | undefined;
  tlsCipher?: string | undefined;
  certSubject?: string | undefined;
  /** Client certificate subject CN (recorded whether or not it verified; replay and reports use it). */
  /** SPF result word first, e.g. "fail smtp.mailfrom=contoso.com" (auth/ via smtp/auth-run). */
  spf?: string | undefined;
  /** "none" or a JSON array of {d, s, result}. */
  dkim?: string | undefined;
  /** e.g. "fail p=reject spf=0 dkim=0 header.from=contoso.com". */
  dmarc?: string | undefined;
  arc?: string | undefined;
  /** e.g. "fail reason=000". */
  compauth?: string | undefined;
  /** SPF, DKIM and DMARC all failed. */
  spoofSuspect?: boolean | undefined;
  /** DNS queries the checks made for this message that missed the cache. */
  dnsLookups?: number | undefined;
  certCn?: string | undefined;
  /** Client certificate subjectAltName DNS names (stored as JSON text). */
  certSans?: string[] | undefined;
  /** True when the client certificate chain verified against the listener's trusted CAs. */
  certVerified?: boolean | undefined;
  /** The fleet node that received it (read from the fleet's shared trace; a node's own trace has none). */
  node?: string | undefined;
  authUser?: string | undefined;
  mailFrom?: string | undefined;
  headerFrom?: string | undefined;
  recipients: string[];
  subject?: string | undefined;
  size?: number | undefined;
  messageId?: string | undefined;
  /** authenticated | connector | direct-send | anonymous-external | relay-denied (or undefined for connect refusals). */
  attribution?: string | undefined;
  connector?: string | undefined;
  connectorType?: string | undefined;
  connectorMatchedBy?: string | undefined;
  status: TraceStatus;
  /** Reply sent for a refusal, e.g. "550 5.7.68 …". */
  reply?: string | undefined;
  /** Reasons the policy gave (keys), comma separated in the store. */
  reasons?: string[] | undefined;
  /** Where the record came from: 'gateway' or 'import:<name>'. */
  source?: string | undefined;
}

export interface TraceEvent {
  messageId: string;
  at: number;
  event: TraceEventType;
  recipient?: string | undefined;
  /** Human-readable detail: the reply text, the next hop's reply, the reason. */
  detail?: string | undefined;
}

/** Where code outside trace/ sends records. Never blocks, never throws. */
export interface TraceSink {
  /** Insert or replace the message row (buffered). */
  message(row: TraceMessage): void;
  /** Append an event (buffered). Delivery events also update the row's status. */
  event(ev: TraceEvent): void;
}
