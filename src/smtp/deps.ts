/**
 * @module smtp/deps
 * What the receive side needs from the rest of the gateway, injected by daemon/ (convention 8):
 * the current config/policy snapshot, the queue's accept(), the trace sink, password checks.
 * Touches: nothing.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../core/log.ts';
import type { Config, ReceiveConnector } from '../config/schema.ts';
import type { PolicySnapshot } from '../policy/types.ts';
import type { TraceEvent, TraceMessage, TraceSink } from '../trace/events.ts';
import type { Disposition, MessageMeta } from '../queue/contract.ts';
import type { AuthFacts, SpfOutcome } from '../auth/index.ts';
import type { Readable } from 'node:stream';
import type { AuthGuard } from './auth-throttle.ts';
import type { ConnectionCounter } from './client-limits.ts';
import type { GatewayMetrics } from '../metrics/index.ts';

/** Evaluates SPF/DKIM/DMARC/ARC for one message (auth/ with our caching resolver); never throws. */
export type Authenticator = (input: {
  /** The message streamed, or (unsigned: its header block alone) a buffer. */
  message: Readable | Buffer;
  /** `message` is the header block of a message with no DKIM-Signature or ARC field. */
  unsignedHeaderBlock?: boolean | undefined;
  clientIp: string;
  helo?: string | undefined;
  mailFrom: string;
  mta: string;
  isAcceptedDomain: (domain: string) => boolean;
  /** SPF started for this transaction by `checkSpf` (same identities); else evaluated with the rest. */
  spf?: Promise<SpfOutcome> | undefined;
}) => Promise<AuthFacts>;

/** Starts SPF for a transaction's identities (auth/spf, cached per DNS TTL); never throws. */
export type SpfChecker = (input: { clientIp: string; helo?: string | undefined; mailFrom: string; mta: string }) => Promise<SpfOutcome>;

/** One frozen config version with its compiled policy. */
export interface RuntimeSnapshot {
  version: number;
  config: Config;
  policy: PolicySnapshot;
}

/** A spool file being written; committed (fsynced, renamed) by accept(). */
export interface SpoolSink extends Writable {
  abort(): Promise<void>;
}

export interface Acceptor {
  /** Start a spool file for queue id `id`. */
  begin(id: string): SpoolSink;
  /**
   * Commit file + queue row + trace row + events (one transaction for the last three); resolves
   * with the queue id only when all of it is durable.
   */
  accept(writer: SpoolSink, meta: MessageMeta, disposition: Disposition, traceRow: TraceMessage, events: TraceEvent[]): Promise<string>;
  /** Queue a generated message held in memory (transport rules' incident reports); absent = none are sent. */
  acceptBytes?(bytes: Buffer, meta: Omit<MessageMeta, 'id' | 'size'>, disposition: Disposition, traceRow: TraceMessage): Promise<string>;
}

export interface SmtpDeps {
  snapshot(): RuntimeSnapshot;
  acceptor: Acceptor;
  trace: TraceSink;
  logger: Logger;
  hostname: string;
  /** SPF/DKIM/DMARC/ARC; undefined = not evaluated (authentication.enabled false). */
  authenticate?: Authenticator | undefined;
  /** SPF alone, started at the first accepted recipient so it runs while DATA arrives. */
  checkSpf?: SpfChecker | undefined;
  /** Ask the next hop whether a recipient exists (recipientValidation: verify; cached); never throws. */
  verifyRecipient?: ((rcpt: string, ttl: { positive: number; negative: number }) => Promise<'exists' | 'unknown' | 'unverified'>) | undefined;
  /** The data dir (relative recipientsFile paths); default the working directory. */
  dataDir?: string | undefined;
  /** Verify an SMTP AUTH password against the current config's users. */
  verifyPassword(user: string, password: string): Promise<boolean>;
  /** SMTP AUTH failure throttling, shared by every listener of the process; undefined = none. */
  authThrottle?: AuthGuard | undefined;
  /** Per-client connection counts shared by the listeners (default: this process's own). */
  connections?: ConnectionCounter | undefined;
  /** True while free space in the data dir is under `queue.minFreeMegabytes` (MAIL FROM gets 452 4.3.1). */
  storageLow?: (() => boolean) | undefined;
  /** Upper bound on a listener's `maxConnections` (the open-file limit allows no more; daemon/fd-limit). */
  maxConnectionsCap?: number | undefined;
  /** Counts connections (and transport-rule hits: `hit(rule, mode)`); undefined = not counted. */
  metrics?: Pick<GatewayMetrics, 'connection' | 'hit'> | undefined;
  now(): number;
}

/** The listener's own settings from the current snapshot (falls back to the one it was started with). */
export function listenerSettings(deps: SmtpDeps, started: ReceiveConnector): ReceiveConnector {
  return deps.snapshot().config.receiveConnectors.find((l) => l.name === started.name) ?? started;
}
