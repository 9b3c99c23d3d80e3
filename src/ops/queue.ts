/**
 * @module ops/queue
 * Queue administration (Postfix's mailq / postsuper / postqueue -f): list, show, flush, hold,
 * release and delete, each with its state rule checked in the transaction that changes the state
 * (queue/states). A running gateway's scheduler polls the queue table, so a flush or release
 * takes effect within its poll interval. The CLI and the admin API call these.
 * Touches: the queue tables and the spool (delete).
 */
import { join } from 'node:path';
import { QueueStore, Spool, UnexpectedStateError, deleteQueued, type QueueRow, type QueueState } from '../queue/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

export const QUEUE_STATES: readonly QueueState[] = ['incoming', 'active', 'deferred', 'hold', 'done', 'bounced'];

/** One queue entry as admins see it (times as ISO strings). */
export interface QueueEntry {
  id: string;
  state: QueueState;
  received: string;
  nextAttempt: string | null;
  attempts: number;
  /** MAIL FROM; `<>` for the null sender. */
  from: string;
  size: number;
  lastError: string | null;
}

export interface QueueRecipient {
  rcpt: string;
  status: string;
  lastReply: string | null;
}

export interface QueueListInput {
  state?: QueueState | undefined;
  /** Include delivered (done) and bounced messages. */
  all?: boolean | undefined;
  limit?: number | undefined;
}

function entryOf(r: QueueRow): QueueEntry {
  return {
    id: r.id,
    state: r.state,
    received: new Date(r.receivedAt).toISOString(),
    nextAttempt: r.nextAttempt ? new Date(r.nextAttempt).toISOString() : null,
    attempts: r.attempts,
    from: r.mailFrom || '<>',
    size: r.size,
    lastError: r.lastError ?? null,
  };
}

function rowOf(store: QueueStore, id: string): QueueRow {
  const r = store.get(id);
  if (!r) throw new OpsError('not-found', `no queued message ${id}`);
  return r;
}

/** The queue: open messages (or one state, or with `all` every message), oldest first. */
export async function listQueue(ctx: OpsContext, input: QueueListInput = {}): Promise<QueueEntry[]> {
  if (input.state !== undefined && !QUEUE_STATES.includes(input.state)) throw new OpsError('invalid', `unknown state ${String(input.state)}`);
  const open = (r: QueueRow): boolean => input.all === true || input.state !== undefined || (r.state !== 'done' && r.state !== 'bounced');
  return new QueueStore(ctx.db).list({ state: input.state, limit: input.limit ?? 1000 }).filter(open).map(entryOf);
}

/** How many messages are in each state, and when the oldest one not yet delivered or bounced arrived (epoch ms). */
export function queueSummary(ctx: OpsContext): { byState: Record<QueueState, number>; open: number; oldestOpenAt: number | null } {
  const store = new QueueStore(ctx.db);
  const byState = store.countByState();
  const open = QUEUE_STATES.filter((s) => s !== 'done' && s !== 'bounced').reduce((n, s) => n + byState[s], 0);
  return { byState, open, oldestOpenAt: store.oldestOpenAt() ?? null };
}

/** One message with its recipients' status. */
export async function showQueued(ctx: OpsContext, id: string): Promise<QueueEntry & { recipients: QueueRecipient[] }> {
  const store = new QueueStore(ctx.db);
  const r = rowOf(store, id);
  const recipients = store.recipients(id).map((x) => ({ rcpt: x.rcpt, status: x.status, lastReply: x.lastReply ?? null }));
  return { ...entryOf(r), recipients };
}

/** Make every deferred message due now; how many. */
export async function flushQueue(ctx: OpsContext, now = Date.now()): Promise<number> {
  return new QueueStore(ctx.db).flushDeferred(now);
}

/** Why `hold` or `release` leaves a message in `state` as it is, in the admin's terms. */
function refusal(verb: 'hold' | 'release', id: string, state: QueueState): string {
  if (verb === 'release') return `${id} is not on hold (it is ${state})`;
  // An attempt in flight ends in a state of its own: hold after it, as `delete` says too.
  if (state === 'active') return `${id} is being delivered right now; hold it again once the attempt ends`;
  if (state === 'hold') return `${id} is already on hold`;
  return `${id} is ${state}: only incoming or deferred mail can be held`;
}

// Each verb acts only on the states it is meant for, checked in the transaction that changes the
// state: release takes held mail only (active → incoming is the crash recovery's transition: on a
// message mid-attempt it would let the scheduler start a second attempt beside the first).
const MOVES = {
  hold: { to: 'hold', from: ['incoming', 'deferred'] },
  release: { to: 'incoming', from: ['hold'] },
} as const;

async function move(ctx: OpsContext, verb: 'hold' | 'release', id: string): Promise<void> {
  const store = new QueueStore(ctx.db);
  rowOf(store, id);
  try {
    // An admin's hold is a quarantine with a reason naming the admin (queue/quarantine-reason.ts).
    if (verb === 'hold') store.holdWithReason(id, { kind: 'admin', text: `held by ${ctx.actor}` }, { from: MOVES.hold.from });
    else store.setState(id, MOVES[verb].to, { from: MOVES[verb].from });
  } catch (e) {
    if (e instanceof UnexpectedStateError) throw new OpsError('conflict', refusal(verb, id, e.state));
    throw new OpsError('conflict', `${id}: ${(e as Error).message}`);
  }
}

/** Put a message on hold (no delivery until released): incoming or deferred mail only. */
export async function holdMessage(ctx: OpsContext, id: string): Promise<void> {
  await move(ctx, 'hold', id);
}

/** Release a held message for delivery. */
export async function releaseMessage(ctx: OpsContext, id: string): Promise<void> {
  await move(ctx, 'release', id);
}

/** Delete a message from the queue (no bounce is sent); never one being delivered. */
export async function deleteMessage(ctx: OpsContext, id: string): Promise<void> {
  const store = new QueueStore(ctx.db);
  const r = rowOf(store, id);
  const busy = `${id} is being delivered right now; hold it first or retry`;
  if (r.state === 'active') throw new OpsError('conflict', busy);
  // Park it on hold first, in one transaction with the state check, so the scheduler cannot
  // claim it between the check and the unlink (a held message is never claimed).
  if (r.state === 'incoming' || r.state === 'deferred') {
    try {
      store.setState(id, 'hold', { lastError: 'being deleted by an admin', from: ['incoming', 'deferred'] });
    } catch (e) {
      // Claimed (or changed by another admin) since the look above.
      if (e instanceof UnexpectedStateError) throw new OpsError('conflict', e.state === 'active' ? busy : `${id} is ${e.state} now; try again`);
      throw new OpsError('conflict', `${id}: ${(e as Error).message}`);
    }
  }
  // Then the row (a tombstone in its place), then the file: recovery and the orphan scan never
  // bring back a tombstoned id (queue/delete.ts).
  let deleted: boolean;
  try {
    deleted = await deleteQueued(store, new Spool(join(ctx.dataDir, 'spool')), id, ['hold', 'done', 'bounced']); // the data directory's spool (daemon/paths)
  } catch (e) {
    if (e instanceof UnexpectedStateError) throw new OpsError('conflict', `${id} is ${e.state} now; try again`);
    throw e;
  }
  if (!deleted) throw new OpsError('not-found', `no queued message ${id}`);
}
