/**
 * @module smtp/session
 * Per-connection and per-transaction state kept beside smtp-server's own session object, and the
 * translation of that state into the flat PolicyInput the pure policy reads.
 * Touches: nothing (state only).
 */
import type { Attribution, CertFacts, PolicyInput } from '../policy/types.ts';
import type { TraceEvent } from '../trace/events.ts';
import type { SpfOutcome } from '../auth/index.ts';

export interface TxState {
  /** Queue id, assigned at MAIL FROM; also the trace id quoted in every refusal. */
  id: string;
  startedAt: number;
  mailFrom: string;
  rcpts: string[];
  attribution: Attribution | undefined;
  /** Events recorded while the transaction ran (REJECT of single recipients). */
  events: TraceEvent[];
  /** The last refusal's reply line, for the trace row when nothing is accepted. */
  lastReply: string | undefined;
  reasons: string[];
  /**
   * SPF for this transaction, started at its first accepted recipient (auth on, anonymous), with
   * the authserv-id it was started for (a config change before DATA makes it stale).
   */
  spf?: { mta: string; outcome: Promise<SpfOutcome> } | undefined;
}

export interface ConnState {
  connectionId: string;
  listener: string;
  clientIp: string;
  clientPort: number;
  connectedAt: number;
  helo: string | undefined;
  tls: boolean;
  tlsVersion: string | undefined;
  tlsCipher: string | undefined;
  cert: CertFacts | undefined;
  authUser: string | undefined;
  errors: number;
  tx: TxState | undefined;
  /** Transactions finished on this connection (for the Received header and logs). */
  transactions: number;
  /** Counted against the per-client connection limit (released when it closes). */
  limited?: boolean | undefined;
}

/** The state of a connection as it opens: nothing said yet, no TLS details, no transaction. */
export function newConnState(c: Pick<ConnState, 'connectionId' | 'listener' | 'clientIp' | 'clientPort' | 'connectedAt' | 'tls'>): ConnState {
  return { ...c, helo: undefined, tlsVersion: undefined, tlsCipher: undefined, cert: undefined, authUser: undefined, errors: 0, tx: undefined, transactions: 0 };
}

/** Build the PolicyInput for the current point of the session. */
export function policyInput(c: ConnState, extra: Partial<PolicyInput> = {}): PolicyInput {
  return {
    listener: c.listener,
    clientIp: c.clientIp,
    clientPort: c.clientPort,
    helo: c.helo,
    tls: c.tls,
    tlsVersion: c.tlsVersion,
    cert: c.cert,
    authUser: c.authUser,
    mailFrom: c.tx?.mailFrom,
    acceptedRcptCount: c.tx?.rcpts.length,
    ...extra,
  };
}
