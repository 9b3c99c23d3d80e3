/**
 * @module queue/contract
 * The narrow interface between the queue and whatever delivers (Postfix's deliver_request.h):
 * the queue hands a DeliveryRequest to an injected DeliveryAgent and gets one RecipientOutcome per
 * recipient back. The queue never imports deliver/; daemon/ wires the agent in.
 * Touches: nothing.
 */
import type { Readable } from 'node:stream';

export interface Envelope {
  /** MAIL FROM address; '' is the null sender. */
  mailFrom: string;
  rcptTo: string[];
}

/** Everything stored with a message (in the spool file's end record and in the queue row). */
export interface MessageMeta {
  id: string;
  receivedAt: number;
  envelope: Envelope;
  /** Size in bytes of the stored message (without prependHeaders). */
  size: number;
  /** Header lines (CRLF-terminated) put in front of the stored message when it is delivered: Received, X-Mailgate-*. */
  prependHeaders: string;
  /** Session and policy facts for the trace and for DSNs (opaque to the queue). */
  facts: Record<string, unknown>;
}

export type Disposition = 'deliver' | 'hold';

export interface DeliveryRequest {
  queueId: string;
  mailFrom: string;
  /** Recipients still to deliver (those not yet delivered or failed). */
  recipients: string[];
  /** 1 for the first attempt. */
  attempt: number;
  meta: MessageMeta;
  /** A fresh stream of the full message as it should leave: prependHeaders + stored message. */
  openMessage(): Readable;
}

export type RecipientStatus = 'delivered' | 'deferred' | 'failed';

export interface RecipientOutcome {
  rcpt: string;
  status: RecipientStatus;
  /** SMTP reply code from the next hop, when there was one. */
  code?: number | undefined;
  /** Enhanced status code, e.g. "5.1.1". */
  enhanced?: string | undefined;
  /** The reply text or a description of the local error. */
  reply: string;
  /** Where it went: "smtp:host:port", "pickup:/path/file.eml". */
  nextHop?: string | undefined;
}

/** Delivers one request; must return exactly one outcome per requested recipient and must not throw. */
export type DeliveryAgent = (req: DeliveryRequest) => Promise<RecipientOutcome[]>;

/** What the DSN builder needs to write a bounce (RFC 3464). */
export interface BounceInfo {
  meta: MessageMeta;
  failed: RecipientOutcome[];
  /** Reporting MTA name. */
  reportingMta: string;
  /** The first part of the original message (headers), for the text/rfc822-headers part. */
  originalHeaders: string;
  now: number;
}

/** Builds a bounce message (raw RFC 5322 bytes, CRLF). Injected into the scheduler by daemon/. */
export type BounceBuilder = (info: BounceInfo) => Buffer;
