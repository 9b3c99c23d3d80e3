/**
 * @module queue/accept
 * accept(): the one way a message enters the queue (from smtp/ after DATA, and from the scheduler
 * for bounces). Order matters, because a 250 means the message is on disk:
 *   1. commit the spool file (message, then an end record that also carries the registration's
 *      trace row and events; fdatasync ∥ fsync msg/);
 *   2. register it (register.ts): in ONE SQLite transaction, the queue row and what rides with it
 *      (trace row, RECEIVE event) — in this process (group-committed per event-loop turn) or, in
 *      a receive worker, by the queue owner over IPC (the daemon injects that registrar);
 *   3. resolve with the queue id; then notify() (wakes the scheduler).
 * On any error it rejects (smtp/ answers 451 4.3.0) and leaves nothing half-registered: a failed
 * commit removes the file, a failed row insert moves the committed file aside with a reason.
 * `background` (receive workers): resolve once step 1 is done and register without waiting — the
 * file is the message and carries its registration, so the 250 no longer waits for the round
 * trip to the queue owner (the largest share of a message's wait after the fsync, measured). A
 * registration that fails or never arrives leaves a valid file without a row: the owner's orphan
 * scan (orphans.ts) or its start-up recovery registers it from the file, nothing is moved aside.
 * At most `maxBackground` registrations are in flight; past that accept() waits for its own (and
 * still answers 250 if it fails: the file is durable), so a worker cannot run ahead of the owner
 * without bound.
 * Touches: the spool directory and the SQLite queue tables (through Spool and QueueStore).
 * RFCs: RFC 5321 §4.1.1.4 and §6.1 (responsibility taken at the 250 reply).
 */
import type { Clock } from '../core/clock.ts';
import { newQueueId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { TraceEvent, TraceMessage, TraceSink } from '../trace/events.ts';
import type { Disposition, MessageMeta } from './contract.ts';
import type { SpoolMeta } from './spool-format.ts';
import type { Spool, SpoolWriter } from './spool.ts';
import type { QueueStore } from './store.ts';
import { localRegistrar, registrationOf, type Registrar, type Registration } from './register.ts';

/** Meta as the caller knows it; `id` and `size` are taken from the writer. */
export type AcceptMeta = Omit<MessageMeta, 'id' | 'size'> & Partial<Pick<MessageMeta, 'id' | 'size'>>;

export interface AcceptorDeps {
  spool: Spool;
  clock: Clock;
  /**
   * Commits the queue row with its trace row and events. Default: a local registrar over `store`
   * that writes only the queue row; the trace row and events then go to `trace` after the commit.
   */
  registrar?: Registrar | undefined;
  /** The queue tables (needed when no registrar is given). */
  store?: QueueStore | undefined;
  /** Receives the trace row and events after the commit when no registrar is given. */
  trace?: TraceSink | undefined;
  /** Called after every successful accept (wake the scheduler, maybe in another process). */
  notify?: (() => void) | undefined;
  logger?: Logger | undefined;
  /** Resolve once the file is durable and register in the background (see the module comment). */
  background?: boolean | undefined;
  /** Background registrations in flight at most (default 1000). */
  maxBackground?: number | undefined;
}

export interface Acceptor {
  /** Open a spool writer for a new message; pipe the DATA stream into it. */
  begin(id: string): SpoolWriter;
  /** Make the written message durable and queued; resolves with the queue id. */
  accept(
    writer: SpoolWriter,
    meta: AcceptMeta,
    disposition: Disposition,
    traceRow?: TraceMessage,
    events?: TraceEvent[],
  ): Promise<string>;
  /** Queue a message held in memory (bounces); `meta.id` defaults to a new queue id. */
  acceptBytes(bytes: Buffer, meta: AcceptMeta, disposition: Disposition, traceRow?: TraceMessage): Promise<string>;
}

/** Build the acceptor that smtp/ (and the scheduler, for bounces) queue messages through. */
export function createAcceptor(deps: AcceptorDeps): Acceptor {
  const { spool } = deps;
  const own = deps.registrar === undefined;
  if (own && !deps.store) throw new Error('createAcceptor: a registrar or a store is needed');
  const register = deps.registrar ?? localRegistrar(deps.store as QueueStore);

  let inFlight = 0;
  const maxBackground = deps.maxBackground ?? 1000;

  async function accept(
    writer: SpoolWriter,
    meta: AcceptMeta,
    disposition: Disposition,
    traceRow?: TraceMessage,
    events?: TraceEvent[],
  ): Promise<string> {
    const carried = traceRow || events?.length ? { registration: { trace: traceRow && { ...traceRow, id: writer.id }, events } } : {};
    const full = registrationOf(await commitOrAbort(writer, { ...meta, ...carried }, disposition));
    const { stored, trace } = full;
    const registration: Registration = own ? { stored, disposition } : full;
    if (deps.background && !own) {
      // The file is durable and carries its registration: from here on the answer is 250, whatever
      // happens to the registration (a failed one is the orphan scan's), and the file is never
      // moved aside. Past the in-flight bound, wait for this one, so a worker cannot run ahead of
      // the owner without bound.
      inFlight++;
      const registered = register(registration)
        .then(
          () => {
            if (deps.notify) safely(deps, deps.notify);
          },
          (err: unknown) =>
            deps.logger?.error({ queueId: stored.id, err }, 'registration failed after the message was acknowledged: its spool file stays in msg/ and the queue owner registers it from there'),
        )
        .finally(() => inFlight--);
      if (inFlight > maxBackground) await registered;
      return stored.id;
    }
    await registerOrMoveAside(deps, register, registration);
    if (own && deps.trace) {
      const sink = deps.trace;
      if (trace) safely(deps, () => sink.message(trace));
      for (const ev of full.events ?? []) safely(deps, () => sink.event(ev));
    }
    if (deps.notify) safely(deps, deps.notify);
    return stored.id;
  }

  async function acceptBytes(bytes: Buffer, meta: AcceptMeta, disposition: Disposition, traceRow?: TraceMessage): Promise<string> {
    const writer = spool.createWriter(meta.id ?? newQueueId(deps.clock.now()));
    writer.on('error', () => undefined); // surfaced by commit()
    writer.end(bytes);
    return accept(writer, meta, disposition, traceRow);
  }

  return { begin: (id) => spool.createWriter(id), accept, acceptBytes };
}

async function commitOrAbort(writer: SpoolWriter, meta: AcceptMeta, disposition: Disposition): Promise<SpoolMeta> {
  try {
    return await writer.commit({ ...meta, disposition });
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

async function registerOrMoveAside(deps: AcceptorDeps, register: Registrar, r: Registration): Promise<void> {
  try {
    await register(r);
  } catch (err) {
    const reason = `queue row insert failed (message not acknowledged): ${(err as Error).message}`;
    await deps.spool.moveAside(r.stored.id, reason).catch((e: unknown) => {
      deps.logger?.error({ queueId: r.stored.id, err: e }, 'could not move unregistered spool file aside');
    });
    throw err;
  }
}

function safely(deps: AcceptorDeps, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    deps.logger?.warn({ err }, 'post-accept callback failed');
  }
}
