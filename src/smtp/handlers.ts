/**
 * @module smtp/handlers
 * smtp-server callbacks for one receive connector: connect, TLS, AUTH, MAIL, RCPT and the end of
 * DATA. Each stage collects facts, asks the pure policy (`evaluate`) and turns a refusal into a
 * reply from the reply table; refusals and their attribution are traced. Nothing here decides on
 * its own: the only local refusals are protocol ones (too many errors, DATA violations, the hop
 * count) and recipient validation (recipient-check.ts: the address must exist, which needs I/O).
 * Fails closed: an exception in policy becomes 451 4.3.5, never an accept.
 * Touches: SMTP clients (through smtp-server), the trace sink.
 */
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerSession } from 'smtp-server';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { newConnectionId, newQueueId } from '../core/ids.ts';
import { normalizeIp } from '../core/cidr.ts';
import { evaluate } from '../policy/index.ts';
import type { Attribution, PolicyInput, Stage, Verdict } from '../policy/types.ts';
import type { ReceiveConnector } from '../config/schema.ts';
import { formatReply, SmtpReplyError, type ReplyKey } from './replies.ts';
import { newConnState, policyInput, type ConnState } from './session.ts';
import { listenerSettings, type SmtpDeps } from './deps.ts';
import { describePeerCertificate } from './certs.ts';
import { traceRefusedConnection, traceRefusedTransaction } from './trace-rows.ts';
import { startSpf } from './auth-run.ts';
import { checkRecipient } from './recipient-check.ts';
import { LocalConnectionCounter, limitExempt, type ClientLimitHit, type ConnectionCounter } from './client-limits.ts';

type LimitKey = 'client-connection-limit' | 'client-rate-limit';

type Cb = (err?: Error | null) => void;

/** A policy verdict, or a refusal the receive side makes itself (recipient validation). */
type StageVerdict = Verdict | { action: 'reject' | 'tempfail'; reply: ReplyKey; attribution?: Attribution | undefined; reasons: string[]; vars?: Record<string, string> };

/** Connection state by smtp-server session id. */
export class SessionTable {
  private readonly map = new Map<string, ConnState>();
  get(session: SMTPServerSession): ConnState | undefined {
    return this.map.get(session.id);
  }
  set(session: SMTPServerSession, c: ConnState): void {
    this.map.set(session.id, c);
  }
  delete(session: SMTPServerSession): void {
    this.map.delete(session.id);
  }
  get size(): number {
    return this.map.size;
  }
}

export class StageHandlers {
  readonly sessions = new SessionTable();
  /** Per-client-IP connection counts and rates (the process's, or the primary's: deps.connections). */
  private readonly counter: ConnectionCounter;
  constructor(
    readonly deps: SmtpDeps,
    readonly listener: ReceiveConnector,
  ) {
    this.counter = deps.connections ?? new LocalConnectionCounter();
  }

  /** Run policy, failing closed on an exception. */
  decide(stage: Stage, input: PolicyInput): Verdict | 'error' {
    try {
      return evaluate(stage, input, this.deps.snapshot().policy);
    } catch (err) {
      this.deps.logger.error({ err, stage, listener: this.listener.name }, 'policy evaluation failed');
      return 'error';
    }
  }

  /** A refusal: count the error (421 after maxErrors) and build the reply error. */
  refuse(c: ConnState, key: ReplyKey, vars?: Record<string, string>): SmtpReplyError {
    c.errors += 1;
    const id = c.tx?.id ?? c.connectionId;
    const max = listenerSettings(this.deps, this.listener).maxErrors;
    if (c.errors > max) return new SmtpReplyError('too-many-errors', undefined, id, this.deps.hostname);
    return new SmtpReplyError(key, vars, id, this.deps.hostname);
  }

  onConnect(session: SMTPServerSession, cb: Cb): void {
    const c = newConnState({
      connectionId: newConnectionId(),
      listener: this.listener.name,
      clientIp: normalizeIp(session.remoteAddress) || session.remoteAddress,
      clientPort: session.remotePort,
      connectedAt: this.deps.now(),
      tls: session.secure,
    });
    this.sessions.set(session, c);
    const limited = this.clientLimit(session, c);
    if (limited instanceof Promise) void limited.then((k) => this.connect(c, k, cb));
    else this.connect(c, limited, cb);
  }

  /** The connect stage once the per-client limits have answered. */
  private connect(c: ConnState, limited: LimitKey | undefined, cb: Cb): void {
    if (limited) {
      const err = new SmtpReplyError(limited, { ip: c.clientIp }, c.connectionId, this.deps.hostname);
      this.deps.metrics?.connection(c.listener, 'refused');
      traceRefusedConnection(this.deps, c, `${err.responseCode} ${err.message}`, [limited]);
      return cb(err);
    }
    const v = this.decide('connect', policyInput(c));
    if (v === 'error') return cb(new SmtpReplyError('policy-error', undefined, c.connectionId, this.deps.hostname));
    if (v.action === 'reject' || v.action === 'tempfail') {
      const err = new SmtpReplyError(v.reply, { ip: c.clientIp, ...v.vars }, c.connectionId, this.deps.hostname);
      this.deps.metrics?.connection(c.listener, 'refused');
      traceRefusedConnection(this.deps, c, `${err.responseCode} ${err.message}`, v.reasons);
      return cb(err);
    }
    this.deps.metrics?.connection(c.listener, 'accepted');
    cb();
  }

  /**
   * The per-client limit this connection hits (connector and allow-listed IPs are exempt); an
   * admitted one is counted until it closes. A counter that fails admits (as Postfix without anvil).
   */
  private clientLimit(session: SMTPServerSession, c: ConnState): LimitKey | undefined | Promise<LimitKey | undefined> {
    const settings = listenerSettings(this.deps, this.listener);
    if (settings.maxConnectionsPerClient === 0 && settings.maxConnectionRatePerClient === 0) return undefined;
    if (limitExempt(c.clientIp, this.deps.snapshot().policy)) return undefined;
    const hit = this.counter.admit(this.listener.name, c.clientIp, settings, this.deps.now());
    if (!(hit instanceof Promise)) return this.limitOutcome(session, c, hit);
    return hit.then(
      (h) => this.limitOutcome(session, c, h),
      (err: unknown) => {
        this.deps.logger.warn({ err, ip: c.clientIp }, 'per-client connection counter unavailable; connection admitted');
        return undefined;
      },
    );
  }

  private limitOutcome(session: SMTPServerSession, c: ConnState, hit: ClientLimitHit | undefined): LimitKey | undefined {
    if (hit === undefined) {
      // Closed while the count was asked for: give the slot back at once.
      if (this.sessions.get(session) === c) c.limited = true;
      else this.counter.release(this.listener.name, c.clientIp);
      return undefined;
    }
    this.deps.logger.info({ cid: c.connectionId, ip: c.clientIp, listener: this.listener.name, limit: hit }, 'connection refused: per-client limit');
    return hit === 'count' ? 'client-connection-limit' : 'client-rate-limit';
  }

  onSecure(socket: Socket | TLSSocket, session: SMTPServerSession, cb: Cb): void {
    const c = this.sessions.get(session);
    if (c && 'getPeerCertificate' in socket) {
      const tlsSock = socket;
      c.tls = true;
      c.tlsVersion = tlsSock.getProtocol() ?? undefined;
      c.tlsCipher = tlsSock.getCipher()?.name;
      c.cert = describePeerCertificate(tlsSock.getPeerCertificate(false), tlsSock.authorized);
      // RFC 3207 §4.2: everything learnt before STARTTLS is forgotten (smtp-server resets the
      // transaction and the AUTH identity; we do the same to our copy).
      c.helo = undefined;
      c.authUser = undefined;
      c.tx = undefined;
    }
    cb();
  }

  onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, res?: { user: string }) => void): void {
    const c = this.sessions.get(session);
    if (!c) return cb(new SmtpReplyError('auth-tempfail'));
    // RFC 4954 §4: no password in clear. smtp-server refuses AUTH before STARTTLS only where
    // STARTTLS is offered; a listener without TLS must refuse it too.
    if (!session.secure) return cb(this.refuse(c, 'auth-encryption-required'));
    // RFC 4954 §4: AUTH inside a mail transaction MUST be refused with 503 (smtp-server does not);
    // recipients accepted as anonymous mail must not become authenticated ones mid-transaction.
    // (smtp-server's own envelope: set by an accepted MAIL FROM, cleared by RSET, EHLO and DATA.)
    if (session.envelope?.mailFrom) return cb(this.refuse(c, 'auth-in-transaction'));
    const user = auth.username ?? '';
    const password = auth.password;
    const throttle = this.deps.authThrottle;
    const now = this.deps.now();
    // A failure is counted (and, in the primary, acknowledged) before the 535 goes out, so the
    // client's next attempt, on whatever connection or worker, sees it.
    const failed = async (): Promise<SmtpReplyError> => {
      const started = await Promise.resolve(throttle?.failure(c.clientIp, user, this.deps.now())).catch(() => undefined);
      if (started) this.deps.logger.warn({ cid: c.connectionId, ip: c.clientIp, user, scope: started.scope, until: new Date(started.until).toISOString() }, 'AUTH lockout');
      return this.refuse(c, 'auth-failed');
    };
    const run = async (): Promise<{ user: string } | SmtpReplyError> => {
      // A locked client is answered before its password is checked: the answer tells it nothing.
      const locked = await Promise.resolve(throttle?.check(c.clientIp, user, now)).catch(() => undefined);
      if (locked) return this.authThrottled(c, user, locked.scope);
      if ((auth.method !== 'PLAIN' && auth.method !== 'LOGIN') || !user || typeof password !== 'string') return failed();
      let ok: boolean;
      try {
        ok = await this.deps.verifyPassword(user, password);
      } catch (err) {
        this.deps.logger.error({ err }, 'password check failed');
        return new SmtpReplyError('auth-tempfail', undefined, c.connectionId, this.deps.hostname);
      }
      if (!ok) {
        this.deps.logger.info({ cid: c.connectionId, ip: c.clientIp, user }, 'AUTH failed');
        return failed();
      }
      throttle?.success(c.clientIp, user);
      c.authUser = user;
      return { user };
    };
    void run().then((r) => (r instanceof SmtpReplyError ? cb(r) : cb(null, r)));
  }

  /** 454 4.7.0 for a client whose IP (or the user name it tries) is locked out; logged and traced. */
  private authThrottled(c: ConnState, user: string, scope: 'ip' | 'user'): SmtpReplyError {
    const err = this.refuse(c, 'auth-throttled');
    this.deps.logger.warn({ cid: c.connectionId, ip: c.clientIp, user, scope }, 'AUTH refused: locked out after repeated failures');
    traceRefusedConnection(this.deps, c, `${err.responseCode} ${err.message}`, [`auth-throttle:${scope}`]);
    return err;
  }

  onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: Cb): void {
    const c = this.sessions.get(session);
    if (!c) return cb(new SmtpReplyError('policy-error'));
    c.helo = session.hostNameAppearsAs || c.helo;
    c.tx = {
      id: newQueueId(this.deps.now()),
      startedAt: this.deps.now(),
      mailFrom: address.address,
      rcpts: [],
      attribution: undefined,
      events: [],
      lastReply: undefined,
      reasons: [],
    };
    // Postfix queue_minfree: take nothing new while the data dir is short of space.
    if (this.deps.storageLow?.()) {
      const err = this.refuse(c, 'insufficient-storage');
      c.tx.lastReply = `${err.responseCode} ${err.message}`;
      traceRefusedTransaction(this.deps, c, c.tx, c.tx.lastReply, undefined, ['storage-low']);
      this.deps.logger.warn({ cid: c.connectionId, listener: this.listener.name }, 'MAIL FROM refused: free space in the data dir under queue.minFreeMegabytes');
      return cb(err);
    }
    const v = this.decide('mail', policyInput(c));
    this.settle(c, v, cb, { domain: address.address.split('@').pop() ?? '' });
  }

  onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: Cb): void {
    const c = this.sessions.get(session);
    if (!c || !c.tx) return cb(new SmtpReplyError('policy-error'));
    const v = this.decide('rcpt', policyInput(c, { rcpt: address.address }));
    if (v === 'error' || (v.action !== 'continue' && v.action !== 'quarantine')) return this.settle(c, v, cb, { rcpt: address.address }, address.address);
    // Policy would take it: an accepted domain with recipientValidation must also know the address.
    checkRecipient(this.deps, address.address).then(
      (r) => {
        if (r === 'ok') return this.settle(c, v, cb, { rcpt: address.address }, address.address);
        const refusal: StageVerdict = { action: r === 'recipient-unknown' ? 'reject' : 'tempfail', reply: r, reasons: [...v.reasons, `rcpt:${r}`], attribution: v.attribution };
        this.settle(c, refusal, cb, { rcpt: address.address }, address.address);
      },
      (err: unknown) => {
        this.deps.logger.error({ err }, 'recipient validation failed');
        this.settle(c, 'error', cb, { rcpt: address.address }, address.address);
      },
    );
  }

  /** Apply a verdict at MAIL or RCPT: reply, remember attribution, trace refusals. */
  private settle(c: ConnState, v: StageVerdict | 'error', cb: Cb, vars: Record<string, string>, rcpt?: string): void {
    const tx = c.tx;
    if (!tx) return cb(new SmtpReplyError('policy-error'));
    if (v === 'error') return cb(this.refuse(c, 'policy-error'));
    // Quarantine is an end-of-DATA outcome; before it, anything but a refusal continues.
    if (v.action === 'continue' || v.action === 'quarantine') {
      if (rcpt !== undefined) {
        tx.rcpts.push(rcpt);
        if (v.attribution) tx.attribution = v.attribution;
        startSpf(this.deps, c, tx);
      } else if (v.attribution) {
        tx.attribution = v.attribution;
      }
      tx.reasons = v.reasons;
      return cb();
    }
    const err = this.refuse(c, v.reply, { ip: c.clientIp, ...vars, ...v.vars });
    const line = `${err.responseCode} ${err.message}`;
    tx.lastReply = line;
    tx.events.push({ messageId: tx.id, at: this.deps.now(), event: 'REJECT', recipient: rcpt, detail: line });
    // A refused transaction is traced at once; if a later recipient is accepted and the message
    // queued, the queued row replaces this one (same id) and the REJECT events stay.
    const attribution: Attribution | undefined = rcpt !== undefined && tx.rcpts.length > 0 ? tx.attribution : (v.attribution ?? tx.attribution);
    traceRefusedTransaction(this.deps, c, tx, line, attribution, v.reasons, rcpt);
    cb(err);
  }

  onClose(session: SMTPServerSession): void {
    const c = this.sessions.get(session);
    if (c?.limited) this.counter.release(this.listener.name, c.clientIp);
    this.sessions.delete(session);
  }

  /** Reply line for a queued message. */
  queuedReply(id: string): string {
    return formatReply('queued', { id }).slice(4);
  }
}
