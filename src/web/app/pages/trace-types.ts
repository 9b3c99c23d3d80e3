/**
 * @module web/app/pages/trace-types
 * The trace documents the admin API answers (GET /api/v1/trace and /api/v1/trace/:id), as the
 * Trace and Quarantine pages read them. Every string in them is untrusted.
 * Touches: nothing.
 */

export interface TraceRow {
  id: string;
  receivedAt: number;
  clientIp: string;
  /** The fleet node that received it (a fleet's shared trace only). */
  node?: string;
  helo?: string;
  mailFrom?: string;
  headerFrom?: string;
  recipients: string[];
  subject?: string;
  size?: number;
  attribution?: string;
  connector?: string;
  status: string;
  reply?: string;
}

export interface TraceMessage extends TraceRow {
  listener: string;
  tlsVersion?: string;
  tlsCipher?: string;
  certSubject?: string;
  authUser?: string;
  messageId?: string;
  connectorType?: string;
  connectorMatchedBy?: string;
  spf?: string;
  dkim?: string;
  dmarc?: string;
  compauth?: string;
  reasons?: string[];
  source?: string;
}

export interface TraceEvent {
  at: number;
  event: string;
  recipient?: string;
  detail?: string;
}

export interface TraceShow {
  message: TraceMessage;
  events: TraceEvent[];
  explanation: { summary: string; lines: Array<{ topic: string; tone: 'ok' | 'warn' | 'bad'; text: string }> };
}

