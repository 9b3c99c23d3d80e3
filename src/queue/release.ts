/**
 * @module queue/release
 * Releasing quarantined mail exactly once, and its expiry.
 * - Whole release: hold → incoming in one transaction that checks the row is still on hold, so
 *   of two admins releasing at once exactly one changes it; from then on the row is the queue's
 *   (a crash leaves it incoming or active, recovery re-queues it, the outcome journal keeps a
 *   delivered attempt from going out again).
 * - Release to some recipients (`release --to`, an approved request): the message is split. Each
 *   recipient is marked "releasing as <copy>" by a compare-and-set in a transaction that checks
 *   the row is on hold (one winner), then its copy is queued under that deterministic id and the
 *   mark becomes "released as <copy>". A crash between the two is finished by `finishReleases`
 *   (the next release and the queue owner's start): a copy already queued (its row or tombstone
 *   exists) is not queued again. The released recipient counts as delivered in the original,
 *   which stays on hold for the others.
 * Guarantee in one sentence: a release is decided by one conditional write, and everything after
 * it is keyed by ids fixed by that write, so a repeat or a crash can finish it but never repeat it.
 * Touches: the queue tables (QueueStore), the spool (reads the original; copies through the acceptor).
 * RFCs: none.
 */
import type { Acceptor } from './accept.ts';
import { deleteQueued } from './delete.ts';
import type { QuarantineReason } from './quarantine-reason.ts';
import type { Spool } from './spool.ts';
import { UnexpectedStateError, type QueueRow, type QueueStore } from './store.ts';

const RELEASING = 'releasing as ';
const RELEASED = 'released as ';

/** What a release did. */
export interface ReleaseResult {
  /** The whole message went back to the queue (every open recipient was released). */
  whole: boolean;
  /** Recipients released, each with the queue id that carries it (the message's own when whole). */
  released: Array<{ rcpt: string; queueId: string }>;
}

export interface ReleaseDeps {
  store: QueueStore;
  spool: Spool;
  /** Queues the per-recipient copies (an acceptor over the same spool and store). */
  acceptor: Acceptor;
  now: () => number;
}

/** The quarantine reason a held row carries (facts.quarantine), if it has one. */
export function quarantineReasonOf(row: QueueRow): QuarantineReason | undefined {
  const q = row.meta.facts.quarantine as QuarantineReason | undefined;
  if (q && typeof q === 'object' && typeof q.kind === 'string') return q;
  // Held at end of DATA before reasons were recorded: the DMARC branch was the only one.
  return row.meta.facts.quarantined === true ? { kind: 'dmarc', text: 'DMARC p=quarantine' } : undefined;
}

/**
 * Release `id` (on hold) to `to` (default: every recipient still open). Throws
 * UnexpectedStateError when it is not on hold, and an Error naming a recipient it does not hold.
 */
export async function releaseHeld(deps: ReleaseDeps, id: string, to?: readonly string[]): Promise<ReleaseResult> {
  const { store } = deps;
  await finishReleases(deps, id);
  const row = store.get(id);
  if (!row) throw new Error(`no queued message ${id}`);
  if (row.state !== 'hold') throw new UnexpectedStateError(id, row.state);
  const open = store.recipients(id).filter((r) => r.status === 'pending' || r.status === 'deferred');
  const wanted = to === undefined ? open.map((r) => r.rcpt) : [...new Set(to.map((t) => t.toLowerCase()))];
  const byLower = new Map(open.map((r) => [r.rcpt.toLowerCase(), r]));
  for (const w of wanted) if (!byLower.has(w.toLowerCase())) throw new Error(`${id} holds no recipient ${w} awaiting release`);
  if (wanted.length === open.length) {
    store.setState(id, 'incoming', { from: ['hold'], lastError: null, now: deps.now() });
    return { whole: true, released: open.map((r) => ({ rcpt: r.rcpt, queueId: id })) };
  }
  const released: ReleaseResult['released'] = [];
  for (const w of wanted) {
    const r = byLower.get(w.toLowerCase());
    if (!r) continue;
    const copyId = copyIdOf(row, r.rcpt);
    const won = store.db
      .transaction(() => {
        const now = store.get(id);
        if (!now || now.state !== 'hold') throw new UnexpectedStateError(id, now?.state ?? 'done');
        return store.markRecipient(id, r.rcpt, { status: r.status, reply: r.lastReply ?? '' }, { status: 'delivered', reply: RELEASING + copyId });
      })
      .immediate();
    if (!won) throw new UnexpectedStateError(id, 'hold');
    released.push({ rcpt: r.rcpt, queueId: copyId });
  }
  await finishReleases(deps, id);
  return { whole: false, released };
}

/**
 * Queue the copy of every recipient marked "releasing" (of `id`, or of every message) whose copy
 * is not queued yet, then mark it released. Returns how many copies it queued.
 */
export async function finishReleases(deps: ReleaseDeps, id?: string): Promise<number> {
  const { store } = deps;
  let queued = 0;
  for (const r of store.recipientsWithReply(RELEASING)) {
    if (id !== undefined && r.queueId !== id) continue;
    const copyId = (r.lastReply ?? '').slice(RELEASING.length);
    const row = store.get(r.queueId);
    if (!row) continue;
    if (!store.has(copyId) && !store.isDeleted(copyId)) {
      const chunks: Buffer[] = [];
      for await (const c of deps.spool.openMessage(r.queueId, '')) chunks.push(c as Buffer);
      const { quarantine: _reason, quarantined: _flag, ...facts } = row.meta.facts;
      await deps.acceptor.acceptBytes(
        Buffer.concat(chunks),
        { id: copyId, receivedAt: deps.now(), envelope: { mailFrom: row.mailFrom, rcptTo: [r.rcpt] }, prependHeaders: row.meta.prependHeaders, facts: { ...facts, releasedFrom: r.queueId } },
        'deliver',
        {
          id: '',
          connectionId: 'local',
          receivedAt: deps.now(),
          clientIp: '127.0.0.1',
          listener: 'quarantine-release',
          mailFrom: row.mailFrom,
          headerFrom: typeof facts.headerFrom === 'string' ? facts.headerFrom : undefined,
          subject: typeof facts.subject === 'string' ? facts.subject : undefined,
          recipients: [r.rcpt],
          status: 'Pending',
          source: 'gateway',
          reasons: [`released-from:${r.queueId}`],
        },
      );
      queued++;
    }
    store.markRecipient(r.queueId, r.rcpt, { status: 'delivered', reply: RELEASING + copyId }, { status: 'delivered', reply: RELEASED + copyId });
  }
  return queued;
}

/** The id of the copy that carries `rcpt` of `row`: fixed by the recipient's place in the envelope. */
function copyIdOf(row: QueueRow, rcpt: string): string {
  const i = row.meta.envelope.rcptTo.findIndex((x) => x.toLowerCase() === rcpt.toLowerCase());
  return `${row.id}-R${i < 0 ? 0 : i}`;
}

/**
 * Delete quarantined messages received before `before` (quarantine.retentionDays); `onDeleted`
 * traces each. Messages held for other reasons (a missing spool file) are left to the admin.
 */
export async function expireQuarantine(store: QueueStore, spool: Spool, before: number, onDeleted: (row: QueueRow) => void, limit = 1000): Promise<number> {
  let n = 0;
  for (const row of store.list({ state: 'hold', limit })) {
    if (row.receivedAt >= before || !quarantineReasonOf(row)) continue;
    try {
      if (await deleteQueued(store, spool, row.id, ['hold'])) {
        n++;
        onDeleted(row);
      }
    } catch (err) {
      if (!(err instanceof UnexpectedStateError)) throw err; // released meanwhile
    }
  }
  return n;
}
