/**
 * @module queue/store
 * QueueStore: the SQLite index of the spool (tables queue_message and queue_rcpt). It is rebuilt
 * from spool files at start when lost, so it never holds anything a spool file does not. Every
 * state change is checked against states.ts. Claiming is done by one owner process (the daemon's
 * scheduler) in a transaction; readers (CLI, API) may share the file thanks to WAL.
 * Touches: the SQLite database (its two queue tables only).
 * RFCs: none.
 */
import type { Db } from '../core/sqlite.ts';
import type { Disposition, RecipientOutcome } from './contract.ts';
import type { SpoolMeta } from './spool-format.ts';
import { assertTransition, isFinal, QUEUE_STATES, type QueueState } from './states.ts';
import { prepareStatements, SCHEMA, type Statements } from './store-sql.ts';
import type { QuarantineReason } from './quarantine-reason.ts';

export type RcptStatus = 'pending' | 'delivered' | 'deferred' | 'failed';

/** One queue_message row, with meta_json parsed. */
export interface QueueRow {
  id: string;
  state: QueueState;
  receivedAt: number;
  nextAttempt: number;
  attempts: number;
  mailFrom: string;
  size: number;
  meta: SpoolMeta;
  lastError: string | null;
  updatedAt: number;
}

/** One queue_rcpt row. */
export interface RcptRow {
  queueId: string;
  rcpt: string;
  status: RcptStatus;
  lastReply: string | null;
}

interface RawMessage {
  id: string;
  state: QueueState;
  received_at: number;
  next_attempt: number;
  attempts: number;
  mail_from: string;
  size: number;
  meta_json: string;
  last_error: string | null;
  updated_at: number;
}

interface RawRcpt {
  queue_id: string;
  rcpt: string;
  status: RcptStatus;
  last_reply: string | null;
}

function toRow(r: RawMessage): QueueRow {
  return {
    id: r.id,
    state: r.state,
    receivedAt: r.received_at,
    nextAttempt: r.next_attempt,
    attempts: r.attempts,
    mailFrom: r.mail_from,
    size: r.size,
    meta: JSON.parse(r.meta_json) as SpoolMeta,
    lastError: r.last_error,
    updatedAt: r.updated_at,
  };
}

/** "code enhanced text" for a reply, skipping missing parts. */
export function formatOutcome(o: RecipientOutcome): string {
  // A next hop's reply line already carries its code (and enhanced code): not twice.
  if (o.code !== undefined && o.reply.startsWith(String(o.code)) && [undefined, ' ', '-'].includes(o.reply[3])) return o.reply;
  return [o.code, o.enhanced, o.reply].filter((p) => p !== undefined && p !== '').join(' ');
}

/** Options for setState. */
export interface SetStateOptions {
  now?: number;
  lastError?: string | null;
  /** When it becomes due (defaults to `now` for → incoming, unchanged otherwise). */
  nextAttempt?: number;
  /**
   * Only from these states (checked in the same transaction): an admin's verb must not take a
   * transition kept for the scheduler or for recovery (active → incoming is crash recovery only).
   */
  from?: readonly QueueState[];
}

/** setState refused: the message is not in a state the caller allowed (`SetStateOptions.from`). */
export class UnexpectedStateError extends Error {
  constructor(
    readonly id: string,
    readonly state: QueueState,
  ) {
    super(`queue message ${id} is ${state}`);
    this.name = 'UnexpectedStateError';
  }
}

/** The queue index in SQLite. */
export class QueueStore {
  private readonly sql: Statements;

  /** One IMMEDIATE transaction running the function it is given (built once, not per call). */
  private readonly immediate: (fn: () => unknown) => unknown;

  constructor(readonly db: Db) {
    db.exec(SCHEMA);
    this.sql = prepareStatements(db);
    const run = db.transaction((fn: () => unknown) => fn());
    this.immediate = (fn) => run.immediate(fn);
  }

  /**
   * Run `fn` atomically: in its own IMMEDIATE transaction, or as part of the caller's when one is
   * open (a batch, see row-batch.ts, which owns atomicity then) — no savepoint per statement group.
   */
  private tx<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : (this.immediate(fn) as T);
  }

  /**
   * Insert a message and its recipients: state incoming, hold for disposition 'hold', or active
   * when the scheduler took it straight into delivery (`active`, see register.ts). Returns the row
   * as `get` would read it back.
   */
  insert(meta: SpoolMeta, disposition: Disposition, active = false): QueueRow {
    const row = this.rowOf(meta, disposition, active);
    this.tx(() => {
      this.sql.insertMessage.run({
        id: row.id,
        state: row.state,
        received_at: row.receivedAt,
        next_attempt: row.nextAttempt,
        mail_from: row.mailFrom,
        size: row.size,
        meta_json: JSON.stringify(row.meta),
        updated_at: row.updatedAt,
      });
      for (const rcpt of meta.envelope.rcptTo) this.sql.insertRcpt.run(meta.id, rcpt);
    });
    return row;
  }

  /** The row `insert(meta, disposition, active)` writes, as `get` would read it back. */
  private rowOf(meta: SpoolMeta, disposition: Disposition, active: boolean): QueueRow {
    return {
      id: meta.id,
      state: disposition === 'hold' ? 'hold' : active ? 'active' : 'incoming',
      receivedAt: meta.receivedAt,
      nextAttempt: meta.receivedAt,
      attempts: 0,
      mailFrom: meta.envelope.mailFrom,
      size: meta.size,
      meta: { ...meta, disposition },
      lastError: null,
      updatedAt: meta.receivedAt,
    };
  }

  /** One message row, or undefined. */
  get(id: string): QueueRow | undefined {
    const r = this.sql.get.get(id) as RawMessage | undefined;
    return r && toRow(r);
  }

  /** True when id's row is in a final state, or was deleted (tombstone): its message needs no spool file any more. */
  readonly isFinalRow = (id: string): boolean => {
    const r = this.sql.stateOf.get(id) as { state: QueueState } | undefined;
    return r !== undefined ? isFinal(r.state) : this.isDeleted(id);
  };

  /** True when an admin deleted id (a tombstone, delete.ts): nothing may restore or register it. */
  isDeleted(id: string): boolean {
    return this.sql.isTombstone.get(id) !== undefined;
  }

  /** Forget tombstones older than `before` (with final rows, prune.ts); returns how many went. */
  pruneTombstones(before: number): number {
    return this.sql.pruneTombstones.run(before).changes;
  }

  /** True when a row exists for id. */
  has(id: string): boolean {
    return this.sql.has.get(id) !== undefined;
  }

  /** Rows, oldest first, optionally in one state. */
  list(opts: { state?: QueueState; limit?: number } = {}): QueueRow[] {
    const limit = opts.limit ?? -1;
    const raws = opts.state ? this.sql.listState.all(opts.state, limit) : this.sql.listAll.all(limit);
    return (raws as RawMessage[]).map(toRow);
  }

  /** The recipients of a message. */
  recipients(id: string): RcptRow[] {
    return (this.sql.rcpts.all(id) as RawRcpt[]).map((r) => ({
      queueId: r.queue_id,
      rcpt: r.rcpt,
      status: r.status,
      lastReply: r.last_reply,
    }));
  }

  /** Move up to `limit` due incoming/deferred rows to active, in one transaction; returns them. */
  claimDue(now: number, limit: number): QueueRow[] {
    if (limit <= 0) return [];
    return this.tx(() => {
      const raws = [...(this.sql.due.all('incoming', now, limit) as RawMessage[]), ...(this.sql.due.all('deferred', now, limit) as RawMessage[])];
      raws.sort((a, b) => a.next_attempt - b.next_attempt);
      const due = raws.slice(0, limit).map(toRow);
      for (const row of due) {
        assertTransition(row.state, 'active');
        this.sql.setState.run('active', now, row.id);
        row.state = 'active';
        row.updatedAt = now;
      }
      return due;
    });
  }

  /**
   * Record an attempt's per-recipient outcomes on an active message and move it on:
   * nothing left to try → done (none failed) or bounced; else deferred until `nextAttempt`.
   * Returns the new state. Outcomes for recipients already delivered/failed are ignored.
   */
  recordOutcomes(id: string, outcomes: RecipientOutcome[], now: number, nextAttempt?: number): QueueState {
    return this.tx(() => {
      const row = this.sql.stateOf.get(id) as { state: QueueState; last_error: string | null } | undefined;
      if (!row) throw new Error(`queue message ${id} not found`);
      for (const o of outcomes) this.sql.updateRcpt.run(o.status, formatOutcome(o), id, o.rcpt);
      const counts = this.sql.rcptCounts.get(id) as { open: number | null; failed: number | null };
      const open = counts.open ?? 0;
      const to: QueueState = open > 0 ? 'deferred' : (counts.failed ?? 0) > 0 ? 'bounced' : 'done';
      assertTransition(row.state, to);
      const problem = outcomes.find((o) => o.status !== 'delivered');
      const lastError = problem ? formatOutcome(problem) : row.last_error;
      this.sql.finishAttempt.run(to, nextAttempt ?? now, lastError, now, id);
      return to;
    });
  }

  /** Change a message's state (checked against the transition table). */
  setState(id: string, to: QueueState, opts: SetStateOptions = {}): void {
    this.tx(() => {
      const row = this.requireRow(id);
      if (opts.from && !opts.from.includes(row.state)) throw new UnexpectedStateError(id, row.state);
      assertTransition(row.state, to);
      const now = opts.now ?? Date.now();
      const next = opts.nextAttempt ?? (to === 'incoming' ? now : row.nextAttempt);
      const lastError = opts.lastError === undefined ? row.lastError : opts.lastError;
      this.sql.setStateFull.run(to, next, lastError, now, id);
    });
  }

  /**
   * Put a message on hold (quarantine) with its reason in its facts, from `from` states only, in
   * one transaction with the check (UnexpectedStateError otherwise).
   */
  holdWithReason(id: string, reason: QuarantineReason, opts: { from: readonly QueueState[]; now?: number }): void {
    this.tx(() => {
      const row = this.requireRow(id);
      if (!opts.from.includes(row.state)) throw new UnexpectedStateError(id, row.state);
      assertTransition(row.state, 'hold');
      const now = opts.now ?? Date.now();
      const meta = { ...row.meta, facts: { ...row.meta.facts, quarantine: reason } };
      this.sql.setMeta.run(JSON.stringify(meta), now, id);
      this.sql.setStateFull.run('hold', row.nextAttempt, row.lastError, now, id);
    });
  }

  /**
   * Change one recipient's status and reply only if it still has `from` (status and reply, checked
   * in the statement): a compare-and-set, so of two callers racing exactly one wins. True if it did.
   */
  markRecipient(id: string, rcpt: string, from: { status: RcptStatus; reply: string }, to: { status: RcptStatus; reply: string }): boolean {
    return this.sql.markRcpt.run(to.status, to.reply, id, rcpt, from.status, from.reply).changes === 1;
  }

  /** Recipients whose last reply starts with `prefix` (at most `limit`). */
  recipientsWithReply(prefix: string, limit = 1000): RcptRow[] {
    const like = prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    return (this.sql.rcptsWithReply.all(like, limit) as RawRcpt[]).map((r) => ({ queueId: r.queue_id, rcpt: r.rcpt, status: r.status, lastReply: r.last_reply }));
  }

  /** At start, before the scheduler runs: every active row goes back to incoming. Returns the count. */
  recoverActive(now: number = Date.now()): number {
    assertTransition('active', 'incoming');
    return this.sql.recoverActive.run(now, now).changes;
  }

  /** Make every deferred message due at `now` (postqueue -f). Returns the count. */
  flushDeferred(now: number): number {
    return this.sql.flushDeferred.run(now, now).changes;
  }

  /** Ids of every row not in a final state. */
  openIds(): string[] {
    return (this.sql.openIds.all() as Array<{ id: string }>).map((r) => r.id);
  }

  /** Number of rows in each state (all states present, zero when empty). */
  countByState(): Record<QueueState, number> {
    const out = Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as Record<QueueState, number>;
    for (const r of this.sql.countByState.all() as Array<{ state: QueueState; n: number }>) out[r.state] = r.n;
    return out;
  }

  /** When the oldest message not yet delivered or bounced was received (undefined when none). */
  oldestOpenAt(): number | undefined {
    const r = this.sql.oldestOpen.get() as { t: number | null } | undefined;
    return r?.t ?? undefined;
  }

  /**
   * Delete a message row and its recipients, leaving a tombstone in the same transaction (see
   * delete.ts). With `from`, only from those states (else UnexpectedStateError). Returns true if a
   * row was deleted.
   */
  delete(id: string, opts: { from?: readonly QueueState[]; now?: number } = {}): boolean {
    return this.tx(() => {
      const row = this.sql.stateOf.get(id) as { state: QueueState } | undefined;
      if (!row) return false;
      if (opts.from && !opts.from.includes(row.state)) throw new UnexpectedStateError(id, row.state);
      this.sql.deleteRcpts.run(id);
      this.sql.insertTombstone.run(id, opts.now ?? Date.now());
      return this.sql.deleteMessage.run(id).changes > 0;
    });
  }

  /** Up to `limit` ids of done/bounced rows last updated before `before`, in id order after `afterId`. */
  finalIdsBefore(before: number, afterId: string, limit: number): string[] {
    return (this.sql.finalIdsBefore.all(afterId, before, limit) as Array<{ id: string }>).map((r) => r.id);
  }

  /** Delete these rows and their recipients (ON DELETE CASCADE) in one transaction; returns how many went. */
  deleteRows(ids: readonly string[]): number {
    return this.tx(() => ids.reduce((n, id) => n + this.sql.deleteMessage.run(id).changes, 0));
  }

  private requireRow(id: string): QueueRow {
    const row = this.get(id);
    if (!row) throw new Error(`queue message ${id} not found`);
    return row;
  }
}
