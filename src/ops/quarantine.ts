/**
 * @module ops/quarantine
 * The quarantine an admin runs (Exchange Online's quarantine: list, preview, release, delete,
 * export; retention 30 days by default): quarantined mail is the queue's hold state with a reason
 * (queue/quarantine-reason.ts). Release goes through queue/release.ts (exactly once), delete
 * through queue/delete.ts (never back after a crash); each is traced (RELEASE/DELETE events)
 * with who did it and why. CLI and API call these; they return plain data.
 * The trace of a quarantined message is read from this node's own SQLite trace (`db`), not
 * ctx.trace: the quarantine is this node's queue, its rows are written there first (no outbox
 * lag), the RELEASE/DELETE events commit there, and a fleet node keeps them locally for this
 * (daemon/trace-shipping); one shared-trace query per listed message would cost a round trip each.
 * Touches: the queue tables and spool (through queue/), the trace tables (events), the config store (read).
 * RFCs: RFC 5322 (the exported .eml is the message as it would leave).
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { systemClock } from '../core/clock.ts';
import {
  QueueStore,
  Spool,
  UnexpectedStateError,
  createAcceptor,
  deleteQueued,
  quarantineReasonOf,
  releaseHeld,
  type QuarantineKind,
  type QuarantineReason,
  type QueueRow,
  type ReleaseResult,
} from '../queue/index.ts';
import { insertEventsSync, insertMessageSync, readEvents, readMessage, traceReady, type TraceEvent, type TraceMessage, type TraceSink } from '../trace/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { previewMessage, type MessagePreview } from './quarantine-preview.ts';

const DAY_MS = 86_400_000;

/** One quarantined message, as list and show return it. */
export interface QuarantineItem {
  id: string;
  receivedAt: number;
  /** When the queue owner deletes it (receivedAt + quarantine.retentionDays). */
  expiresAt: number;
  reason: QuarantineReason;
  mailFrom: string;
  headerFrom: string;
  subject: string;
  /** Recipients still held (not yet released). */
  recipients: string[];
  attribution: string;
  auth: { spf: string; dkim: string; dmarc: string; compauth: string };
  size: number;
}

export interface QuarantineFilter {
  reason?: QuarantineKind | undefined;
  /** Transport rule name (kind 'rule'), case-insensitive. */
  rule?: string | undefined;
  /** Received at or after (ms since the epoch). */
  since?: number | undefined;
  /** Held for this recipient (case-insensitive). */
  recipient?: string | undefined;
  limit?: number | undefined;
}

/** The queue as ops/ sees it: the store and the spool of the data directory (no commit journal of its own). */
export function openQueue(ctx: OpsContext): { store: QueueStore; spool: Spool } {
  return { store: new QueueStore(ctx.db), spool: new Spool(join(ctx.dataDir, 'spool'), { journal: false, reuseFiles: false }) };
}

async function retentionDays(ctx: OpsContext): Promise<number> {
  return (await ctx.store.current())?.config.quarantine.retentionDays ?? 30;
}

function itemOf(ctx: OpsContext, store: QueueStore, row: QueueRow, reason: QuarantineReason, days: number): QuarantineItem {
  const trace = readMessage(ctx.db, row.id);
  const facts = row.meta.facts;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const attribution = facts.attribution as { kind?: string } | undefined;
  return {
    id: row.id,
    receivedAt: row.receivedAt,
    expiresAt: row.receivedAt + days * DAY_MS,
    reason,
    mailFrom: row.mailFrom,
    headerFrom: str(facts.headerFrom) || (trace?.headerFrom ?? ''),
    subject: str(facts.subject) || (trace?.subject ?? ''),
    recipients: store
      .recipients(row.id)
      .filter((r) => r.status === 'pending' || r.status === 'deferred')
      .map((r) => r.rcpt),
    attribution: attribution?.kind ?? trace?.attribution ?? '',
    auth: { spf: trace?.spf ?? '', dkim: trace?.dkim ?? '', dmarc: trace?.dmarc ?? '', compauth: trace?.compauth ?? '' },
    size: row.size,
  };
}

/** Quarantined messages (on hold with a reason), oldest first, filtered. */
export async function listQuarantine(ctx: OpsContext, filter: QuarantineFilter = {}): Promise<QuarantineItem[]> {
  const { store } = openQueue(ctx);
  const days = await retentionDays(ctx);
  const out: QuarantineItem[] = [];
  const limit = filter.limit ?? 1000;
  for (const row of store.list({ state: 'hold', limit: 100_000 })) {
    const reason = quarantineReasonOf(row);
    if (!reason) continue;
    if (filter.reason && reason.kind !== filter.reason) continue;
    if (filter.rule && reason.rule?.toLowerCase() !== filter.rule.toLowerCase()) continue;
    if (filter.since !== undefined && row.receivedAt < filter.since) continue;
    const item = itemOf(ctx, store, row, reason, days);
    if (filter.recipient && !item.recipients.some((r) => r.toLowerCase() === filter.recipient?.toLowerCase())) continue;
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

function requireHeld(ctx: OpsContext, store: QueueStore, id: string): { row: QueueRow; reason: QuarantineReason } {
  const row = store.get(id);
  if (row && row.state !== 'hold') throw new OpsError('conflict', `${id} is not in quarantine (it is ${row.state}): released meanwhile?`);
  const reason = row ? quarantineReasonOf(row) : undefined;
  if (!row || !reason) throw new OpsError('not-found', `no quarantined message ${id}`);
  return { row, reason };
}

/** One quarantined message with a safe preview (headers, text, attachments) and its trace events. */
export async function showQuarantine(ctx: OpsContext, id: string): Promise<QuarantineItem & { preview: MessagePreview; events: TraceEvent[] }> {
  const { store, spool } = openQueue(ctx);
  const { row, reason } = requireHeld(ctx, store, id);
  const preview = await previewMessage(spool.openMessage(id, ''));
  const events = readEvents(ctx.db, id);
  return { ...itemOf(ctx, store, row, reason, await retentionDays(ctx)), preview, events };
}

/** The message as it would leave (our headers + the stored message), for `export` (.eml). */
export function exportQuarantine(ctx: OpsContext, id: string): Readable {
  const { store, spool } = openQueue(ctx);
  const { row } = requireHeld(ctx, store, id);
  return spool.openMessage(id, row.meta.prependHeaders);
}

/** Trace rows and events written straight into the trace tables (ops runs outside the gateway's writer). */
function traceSink(ctx: OpsContext): TraceSink {
  return {
    message: (row: TraceMessage) => insertMessageSync(ctx.db, row),
    event: (ev: TraceEvent) => insertEventsSync(ctx.db, [ev]),
  };
}

function trace(ctx: OpsContext, events: TraceEvent[]): void {
  if (events.length > 0 && traceReady(ctx.db)) ctx.db.transaction(() => insertEventsSync(ctx.db, events)).immediate();
}

const why = (ctx: OpsContext, reason: string | undefined): string => `by ${ctx.actor}${reason ? `: ${reason}` : ''}`;

/**
 * Release a quarantined message to every held recipient, or to `to` only; exactly once (of two
 * admins releasing at once, one gets a conflict). Traced: a RELEASE event per recipient released.
 */
export async function releaseQuarantine(ctx: OpsContext, id: string, opts: { to?: readonly string[] | undefined; why?: string | undefined } = {}): Promise<ReleaseResult> {
  const { store, spool } = openQueue(ctx);
  requireHeld(ctx, store, id);
  const now = (): number => Date.now();
  const acceptor = createAcceptor({ spool, store, clock: systemClock, trace: traceSink(ctx) });
  let result: ReleaseResult;
  try {
    result = await releaseHeld({ store, spool, acceptor, now }, id, opts.to?.length ? opts.to : undefined);
  } catch (err) {
    if (err instanceof UnexpectedStateError) throw new OpsError('conflict', `${id} was released or changed by someone else just now (it is ${err.state})`);
    if (err instanceof Error && /holds no recipient/.test(err.message)) throw new OpsError('invalid', err.message);
    throw err;
  }
  const at = now();
  trace(
    ctx,
    result.released.map((r) => ({
      messageId: id,
      at,
      event: 'RELEASE' as const,
      recipient: r.rcpt,
      detail: `released ${why(ctx, opts.why)}${r.queueId !== id ? ` (as ${r.queueId})` : ''}`,
    })),
  );
  return result;
}

/** Delete a quarantined message for good (never back after a crash). Traced: a DELETE event. */
export async function deleteQuarantine(ctx: OpsContext, id: string, opts: { why?: string | undefined } = {}): Promise<void> {
  const { store, spool } = openQueue(ctx);
  requireHeld(ctx, store, id);
  try {
    await deleteQueued(store, spool, id, ['hold']);
  } catch (err) {
    if (err instanceof UnexpectedStateError) throw new OpsError('conflict', `${id} was released or changed by someone else just now (it is ${err.state})`);
    throw err;
  }
  trace(ctx, [{ messageId: id, at: Date.now(), event: 'DELETE', detail: `deleted from quarantine ${why(ctx, opts.why)}` }]);
}

/** Put a queued message into quarantine as an admin's hold (kind 'admin', with the admin's name). */
export function holdMessage(ctx: OpsContext, id: string, opts: { why?: string | undefined } = {}): QuarantineReason {
  const { store } = openQueue(ctx);
  const row = store.get(id);
  if (!row) throw new OpsError('not-found', `no queued message ${id}`);
  const reason: QuarantineReason = { kind: 'admin', text: `held ${why(ctx, opts.why)}` };
  try {
    store.holdWithReason(id, reason, { from: ['incoming', 'deferred'] });
  } catch (err) {
    if (!(err instanceof UnexpectedStateError)) throw err;
    if (err.state === 'active') throw new OpsError('conflict', `${id} is being delivered right now; hold it again once the attempt ends`);
    if (err.state === 'hold') throw new OpsError('conflict', `${id} is already on hold`);
    throw new OpsError('conflict', `${id} is ${err.state}: only incoming or deferred mail can be held`);
  }
  trace(ctx, [{ messageId: id, at: Date.now(), event: 'QUARANTINE', detail: reason.text }]);
  return reason;
}
