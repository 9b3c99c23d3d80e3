/**
 * @module queue/scheduler
 * The scheduler (Postfix's qmgr): a bounded active window over the incoming and deferred queues.
 * Each pass claims due rows (up to activeWindow − in flight), hands each to the injected
 * DeliveryAgent, records per-recipient outcomes, traces them, and moves the message on:
 * all delivered → done (file removed); nothing left but failures → bounced (file removed, DSN
 * queued to the sender unless the sender is null); otherwise deferred with exponential backoff.
 * Messages older than maxAgeSeconds turn their deferred recipients into failures (4.4.7).
 * Exactly one process per queue runs a scheduler; it calls recover() before start().
 * Admission: the queue owner's registrar can insert a new message as active and hand it straight
 * to the window (reserve/admit/release), when a slot is free and no claim found the window full.
 * Touches: the spool and queue tables (through Spool, QueueStore, Acceptor), the injected agent,
 * the trace sink, timers.
 * RFCs: RFC 5321 §4.5.4.1 (retry), §6.1 and §4.5.5 (bounces go to the reverse path, never to the
 * null sender), RFC 3464 (the DSN itself is built by the injected BounceBuilder), RFC 3463.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { TraceMessage, TraceSink } from '../trace/events.ts';
import { createAcceptor, type Acceptor } from './accept.ts';
import { headerEditsOf, withHeaderEdits } from './header-edit.ts';
import { disclaimerOf, withDisclaimer } from './disclaimer.ts';
import {
  agentErrorOutcome,
  backoffMs,
  expireOutcomes,
  isExpired,
  normalizeOutcomes,
  outcomeEvents,
} from './attempt.ts';
import type { BounceBuilder, DeliveryAgent, DeliveryRequest, RecipientOutcome } from './contract.ts';
import { recoverQueue, type RecoverReport } from './recover.ts';
import type { OutcomeJournal } from './outcome-journal.ts';
import type { Admission, RowHook } from './register.ts';
import { RowBatcher } from './row-batch.ts';
import type { Spool } from './spool.ts';
import { isFinal, type QueueState } from './states.ts';
import { formatOutcome, type QueueRow, type QueueStore } from './store.ts';

export interface SchedulerOptions {
  store: QueueStore;
  spool: Spool;
  agent: DeliveryAgent;
  buildBounce: BounceBuilder;
  trace: TraceSink;
  clock: Clock;
  logger: Logger;
  /** Our name in DSNs (Reporting-MTA). */
  reportingMta: string;
  retryInitialSeconds: number;
  retryMaxSeconds: number;
  maxAgeSeconds: number;
  /** Most messages in delivery at once. */
  activeWindow: number;
  pollMs?: number;
  /** How bounces are queued (default: an acceptor over the same spool and store). */
  acceptor?: Acceptor;
  /** Writes the trace row a spool file carries when recovery rebuilds its queue row. */
  rowHook?: RowHook | undefined;
  /** The delivered-outcome journal (outcome-journal.ts); without it a store failure after delivery is retried in memory only. */
  outcomes?: OutcomeJournal | undefined;
}

/** Runs delivery passes over the queue. */
export class Scheduler implements Admission {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly acceptor: Acceptor;
  /** Outcomes of attempts that finish in the same turn are recorded in one transaction. */
  private readonly outcomeRows: RowBatcher;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopping = false;
  /** Slots reserved for rows being registered (admission), not yet in flight. */
  private reserved = 0;
  /** The last claim filled the window: due rows may be waiting, so nothing is admitted. */
  private backlog = true;
  /** A new row was committed as incoming since the last pass (wakeForNew). */
  private newIncoming = true;
  /** Counters for tests and the line the queue owner logs when it stops. */
  readonly stats = { claims: 0, claimed: 0, admitted: 0 };
  /** Attempts whose outcome the store refused past the first tries (then retried until it took them). */
  unrecorded = 0;

  constructor(private readonly o: SchedulerOptions) {
    this.outcomeRows = RowBatcher.for(o.store.db);
    this.acceptor =
      o.acceptor ??
      createAcceptor({
        spool: o.spool,
        store: o.store,
        clock: o.clock,
        trace: o.trace,
        logger: o.logger,
        notify: () => this.autoWake(),
      });
  }

  /** Reconcile spool and store (call once, before start). */
  recover(): Promise<RecoverReport> {
    return recoverQueue({
      spool: this.o.spool,
      store: this.o.store,
      clock: this.o.clock,
      logger: this.o.logger,
      rowHook: this.o.rowHook,
      outcomes: this.o.outcomes,
      trace: this.o.trace,
    });
  }

  /** Poll every pollMs and run a pass now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.timer = setInterval(() => this.wake(), this.o.pollMs ?? 1000);
    this.timer.unref();
    this.wake();
  }

  /** Stop polling and wait for deliveries in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Run a pass now: claim due messages into the free part of the window and start them. */
  wake(): void {
    if (this.stopping) return;
    try {
      this.claimAndStart();
    } catch (err) {
      this.o.logger.error({ err }, 'scheduler pass failed');
    }
  }

  /** Make every deferred message due now, then run a pass. Returns how many were deferred. */
  flush(): number {
    const n = this.o.store.flushDeferred(this.o.clock.now());
    this.wake();
    return n;
  }

  /** One pass, then wait for every delivery in flight (tests and `mailgate queue run`). Returns the number claimed. */
  async runOnce(): Promise<number> {
    const claimed = this.claimAndStart();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
    return claimed;
  }

  /** Deliveries in flight right now. */
  get activeCount(): number {
    return this.inFlight.size;
  }

  /**
   * Run a pass if a new row was committed as incoming since the last pass (`queued`): what the
   * queue owner calls after registrations commit. Rows admitted straight into delivery need none.
   */
  wakeForNew(): void {
    if (this.newIncoming) this.wake();
  }

  private autoWake(): void {
    if (this.running) setImmediate(() => this.wake());
  }

  private claimAndStart(): number {
    const free = this.o.activeWindow - this.inFlight.size - this.reserved;
    const rows = this.o.store.claimDue(this.o.clock.now(), free);
    this.newIncoming = false; // only once the claim looked (a claim that throws leaves it set)
    this.stats.claims++;
    this.stats.claimed += rows.length;
    // The window was filled: more may be due, and new rows wait behind them (no admission).
    this.backlog = rows.length >= free;
    for (const row of rows) this.launch(row);
    return rows.length;
  }

  private launch(row: QueueRow): void {
    const p = this.attemptSafely(row).finally(() => {
      this.inFlight.delete(row.id);
      // A slot is free: claim if due rows may be waiting (the window was full, or new ones came).
      if (this.backlog || this.newIncoming) this.autoWake();
    });
    this.inFlight.set(row.id, p);
  }

  /**
   * Admission (register.ts): a slot for a new row, which is then inserted as active and handed to
   * `admit` once committed: no claim query, no update, no transaction of its own, no meta parsed
   * back. Refused while stopped, while the window is full, while rows registered as incoming wait
   * for a claim, and while the last claim filled the window (due rows then go first, in order).
   * Deferred rows that came due since the last claim are not seen here: the next poll claims them
   * (within pollMs), and new mail may go ahead of them until then.
   */
  reserve(): boolean {
    if (!this.running || this.stopping || this.backlog || this.newIncoming) return false;
    if (this.inFlight.size + this.reserved >= this.o.activeWindow) return false;
    this.reserved++;
    return true;
  }

  queued(): void {
    this.newIncoming = true;
  }

  release(): void {
    if (this.reserved > 0) this.reserved--;
    else this.o.logger.error('admission: a slot released that was not reserved');
  }

  admit(row: QueueRow): void {
    this.release();
    if (!this.stopping) {
      this.stats.admitted++;
      return this.launch(row);
    }
    // Stopped between the reservation and the commit: back to incoming for the next claim
    // (a crash here leaves it active, which recovery turns back to incoming as well).
    try {
      this.o.store.setState(row.id, 'incoming', { now: this.o.clock.now() });
      this.newIncoming = true;
    } catch (err) {
      this.o.logger.error({ err, queueId: row.id }, 'could not return an admitted message to incoming; left active until restart');
    }
  }

  private async attemptSafely(row: QueueRow): Promise<void> {
    try {
      await this.attempt(row);
    } catch (err) {
      this.o.logger.error({ err, queueId: row.id }, 'delivery attempt failed; deferring');
      this.deferAfterError(row, err);
    }
  }

  private deferAfterError(row: QueueRow, err: unknown): void {
    try {
      const now = this.o.clock.now();
      const next = now + backoffMs(row.attempts + 1, this.o.retryInitialSeconds, this.o.retryMaxSeconds);
      this.o.store.setState(row.id, 'deferred', { now, nextAttempt: next, lastError: `4.3.0 ${String(err)}` });
    } catch (e) {
      this.o.logger.error({ err: e, queueId: row.id }, 'could not defer; left active until restart');
    }
  }

  private async attempt(row: QueueRow): Promise<void> {
    const { store, spool, clock } = this.o;
    const pending = store.recipients(row.id).filter((r) => r.status === 'pending' || r.status === 'deferred');
    const rcpts = pending.map((r) => r.rcpt);
    let outcomes = rcpts.length > 0 ? await this.callAgent(this.request(row, rcpts), rcpts) : [];
    const now = clock.now();
    if (isExpired(row.receivedAt, now, this.o.maxAgeSeconds)) outcomes = expireOutcomes(outcomes);
    const next = now + backoffMs(row.attempts + 1, this.o.retryInitialSeconds, this.o.retryMaxSeconds);
    // The next hop has answered: journal it at once (failures as deferred until their bounce is queued).
    const record = { id: row.id, attempt: row.attempts + 1, at: now, next };
    const handles = [this.o.outcomes?.write({ ...record, outcomes: outcomes.map((o) => (o.status === 'failed' ? { ...o, status: 'deferred' as const } : o)) })];
    outcomes = await this.bounceFailures(row, outcomes, now);
    if (outcomes.some((o) => o.status === 'failed')) handles.push(this.o.outcomes?.write({ ...record, outcomes }));
    const state = await this.recordUntilDone(row.id, outcomes, now, next);
    if (state === undefined) return; // stopping: the journal has it for the next start
    for (const h of handles) this.o.outcomes?.settle(h);
    for (const ev of outcomeEvents(row.id, outcomes, now)) this.o.trace.event(ev);
    if (isFinal(state)) await spool.retire(row.id, row.size);
    this.o.logger.info({ queueId: row.id, attempt: row.attempts + 1, state }, 'delivery attempt done');
  }

  /**
   * Record the outcomes, retrying until the store takes them: the next hop has answered, so the
   * message must not be deferred and sent again (it stays active, outside every claim, meanwhile).
   * Undefined when the scheduler stops first: the outcome journal, flushed, has it for the next start.
   */
  private async recordUntilDone(id: string, outcomes: RecipientOutcome[], now: number, next: number): Promise<QueueState | undefined> {
    for (let i = 1; ; i++) {
      try {
        const state = await this.recordOutcomes(id, outcomes, now, next);
        if (i > RECORD_TRIES) this.o.logger.info({ queueId: id, tries: i }, 'delivery outcome recorded after the store failed');
        return state;
      } catch (err) {
        if (i === RECORD_TRIES) {
          this.unrecorded++;
          this.o.outcomes?.sync();
          this.o.logger.error({ err, queueId: id, unrecorded: this.unrecorded }, 'delivery outcome not recorded (store failing): kept and retried; the message is not delivered again');
        }
        if (this.stopping) {
          this.o.outcomes?.sync();
          this.o.logger.warn({ queueId: id }, 'stopping with a delivery outcome not recorded: the outcome journal applies it at the next start');
          return undefined;
        }
        await new Promise((r) => setTimeout(r, Math.min(200 * i, 2000)));
      }
    }
  }

  /** store.recordOutcomes inside the next batch transaction; resolves with the new state once committed. */
  private async recordOutcomes(id: string, outcomes: RecipientOutcome[], now: number, next: number): Promise<QueueState> {
    let state: QueueState | undefined;
    await this.outcomeRows.register(() => {
      state = this.o.store.recordOutcomes(id, outcomes, now, next);
    });
    if (state === undefined) throw new Error(`queue message ${id}: outcome not recorded`);
    return state;
  }

  private request(row: QueueRow, rcpts: string[]): DeliveryRequest {
    const { spool } = this.o;
    return {
      queueId: row.id,
      mailFrom: row.mailFrom,
      recipients: rcpts,
      attempt: row.attempts + 1,
      meta: row.meta,
      // Transport rules' header edits are applied on the way out (queue/header-edit explains why).
      openMessage: () => withDisclaimer(withHeaderEdits(spool.openMessage(row.id, row.meta.prependHeaders, row.size), headerEditsOf(row.meta.facts)), disclaimerOf(row.meta.facts)),
    };
  }

  /** Call the agent; one that throws (or returns a non-array) defers every recipient. */
  private async callAgent(req: DeliveryRequest, rcpts: string[]): Promise<RecipientOutcome[]> {
    try {
      const res = await this.o.agent(req);
      if (!Array.isArray(res)) throw new Error('agent returned no outcome list');
      return normalizeOutcomes(res, rcpts);
    } catch (err) {
      this.o.logger.warn({ err, queueId: req.queueId }, 'delivery agent threw');
      return rcpts.map((r) => agentErrorOutcome(r, err));
    }
  }

  /**
   * Queue one bounce for this attempt's failures (never for a null sender). If the bounce cannot be
   * queued, the failures are kept as deferred so the DSN is not lost; the next attempt retries.
   */
  private async bounceFailures(row: QueueRow, outcomes: RecipientOutcome[], now: number): Promise<RecipientOutcome[]> {
    const failed = outcomes.filter((o) => o.status === 'failed');
    if (failed.length === 0 || row.mailFrom === '') return outcomes;
    try {
      const bounceId = await this.queueBounce(row, failed, now);
      const detail = `bounce ${bounceId} for ${failed.map((f) => f.rcpt).join(', ')}`;
      this.o.trace.event({ messageId: row.id, at: now, event: 'DSN', recipient: row.mailFrom, detail });
      return outcomes;
    } catch (err) {
      this.o.logger.error({ err, queueId: row.id }, 'could not queue bounce; keeping recipients deferred');
      const why = `bounce could not be queued (${(err as Error).message})`;
      return outcomes.map((o) => (o.status === 'failed' ? { ...o, status: 'deferred', reply: `${formatOutcome(o)}; ${why}` } : o));
    }
  }

  private async queueBounce(row: QueueRow, failed: RecipientOutcome[], now: number): Promise<string> {
    const { spool, reportingMta } = this.o;
    const originalHeaders = await spool.readHeaders(row.id, row.meta.prependHeaders).catch(() => '');
    const bytes = this.o.buildBounce({ meta: row.meta, failed, reportingMta, originalHeaders, now });
    const meta = {
      receivedAt: now,
      envelope: { mailFrom: '', rcptTo: [row.mailFrom] },
      prependHeaders: '',
      facts: { dsnFor: row.id },
    };
    return this.acceptor.acceptBytes(bytes, meta, 'deliver', bounceTraceRow(row, now));
  }
}

/** The trace row of a bounce we generate (no SMTP client: a local source). */
function bounceTraceRow(original: QueueRow, now: number): TraceMessage {
  return {
    id: '', // filled in by accept with the new queue id
    connectionId: 'local',
    receivedAt: now,
    clientIp: '127.0.0.1',
    listener: 'bounce',
    mailFrom: '',
    recipients: [original.mailFrom],
    subject: `Undelivered Mail Returned to Sender (${original.id})`,
    status: 'Pending',
    source: 'gateway',
  };
}

/** Tries before a store failure to record an outcome is logged as an error (then it goes on trying). */
const RECORD_TRIES = 5;
