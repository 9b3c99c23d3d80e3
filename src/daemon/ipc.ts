/**
 * @module daemon/ipc
 * The link between receive workers and the queue owner (node:cluster IPC), so that exactly one
 * process writes the SQLite store: three processes taking turns on one write lock cost more than
 * the messages themselves (SQLite's busy handler sleeps on the event loop).
 *   worker → owner: one `batch` message per event-loop turn: registrations (committed spool files
 *                   whose queue row, trace row and events the owner must write) and trace records.
 *   owner → worker: one `ack` per turn: the registrations committed, and those refused (with why),
 *                   and as many names of reusable spool files as registrations committed (the
 *                   names the owner retired after delivery: queue/file-pool.ts).
 * A worker's 250 waits for the durable spool file, not for this ack: its registrations run in the
 * background (queue/accept.ts), and one refused or never acked is registered by the owner from the
 * file (orphan scan, start-up recovery). If the owner goes away, every registration waiting for an
 * ack is refused rather than left hanging.
 * Touches: the cluster IPC channel.
 */
import type { Registrar, Registration } from '../queue/index.ts';
import type { TraceEvent, TraceMessage, TraceSink } from '../trace/index.ts';

interface BatchMsg {
  mg: 'batch';
  regs: Array<[number, Registration]>;
  m: TraceMessage[];
  e: TraceEvent[];
}

interface AckMsg {
  mg: 'ack';
  ok: number[];
  err: Array<[number, string]>;
  /** Names in the spool's free/ this worker may reuse (each handed to one worker only). */
  free?: string[];
}

const isBatch = (m: unknown): m is BatchMsg => typeof m === 'object' && m !== null && (m as BatchMsg).mg === 'batch';
const isAck = (m: unknown): m is AckMsg => typeof m === 'object' && m !== null && (m as AckMsg).mg === 'ack';

/** The owner's end of one worker's channel (a cluster Worker is one). */
export interface WorkerChannel {
  on(event: 'message', listener: (m: unknown) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  send(message: AckMsg, callback: (err: Error | null) => void): unknown;
  isConnected(): boolean;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  since: number;
}

/** Longest a registration waits for the owner's ack before the worker gives up on it (the file stays for the owner's orphan scan). */
export const ACK_TIMEOUT_MS = 60_000;

/** Worker side: registrations and trace records go to the queue owner. */
export class OwnerLink {
  private seq = 0;
  private readonly waiting = new Map<number, Waiter>();
  private out: BatchMsg = { mg: 'batch', regs: [], m: [], e: [] };
  private scheduled = false;
  /** Receives the reusable spool file names the owner hands out with its acks (the spool's pool). */
  freeFiles: ((names: string[]) => void) | undefined;

  constructor(
    private readonly proc: NodeJS.Process,
    private readonly ackTimeoutMs = ACK_TIMEOUT_MS,
  ) {
    proc.on('message', (m: unknown) => {
      if (isAck(m)) this.onAck(m);
    });
    proc.on('disconnect', () => this.failAll(new Error('queue owner gone')));
    // An owner that stalls must not hold registrations (and a worker past its in-flight bound) forever.
    const sweep = setInterval(() => this.expire(Date.now()), Math.min(1000, this.ackTimeoutMs));
    sweep.unref();
  }

  /** The registrar receive workers accept mail through. */
  readonly register: Registrar = (r) =>
    new Promise<void>((resolve, reject) => {
      if (!this.proc.connected) return reject(new Error('queue owner gone'));
      const n = ++this.seq;
      this.waiting.set(n, { resolve, reject, since: Date.now() });
      this.out.regs.push([n, r]);
      this.schedule();
    });

  /** The trace sink of a receive worker (buffered per turn, written by the owner's TraceWriter). */
  readonly trace: TraceSink & { close(): Promise<void> } = {
    message: (row) => {
      this.out.m.push(row);
      this.schedule();
    },
    event: (ev) => {
      this.out.e.push(ev);
      this.schedule();
    },
    // Resolves once the last batch is handed to the IPC channel, so an exit right after loses nothing.
    close: () => this.flush(),
  };

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  /** Send what is buffered; resolves when the channel has taken it (or it was dropped). */
  private flush(): Promise<void> {
    this.scheduled = false;
    const msg = this.out;
    if (msg.regs.length === 0 && msg.m.length === 0 && msg.e.length === 0) return Promise.resolve();
    this.out = { mg: 'batch', regs: [], m: [], e: [] };
    // Trace records of a batch that cannot be sent are lost with it (never a queued message).
    if (!this.proc.connected || !this.proc.send) {
      for (const [n] of msg.regs) this.settle(n, 'queue owner gone');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.proc.send?.(msg, (err: Error | null) => {
        if (err) for (const [n] of msg.regs) this.settle(n, `queue owner unreachable: ${err.message}`);
        resolve();
      });
    });
  }

  private onAck(m: AckMsg): void {
    if (Array.isArray(m.free) && m.free.length > 0) this.freeFiles?.(m.free.filter((n) => typeof n === 'string'));
    for (const n of m.ok) this.settle(n);
    for (const [n, why] of m.err) this.settle(n, why);
  }

  private settle(n: number, error?: string): void {
    const w = this.waiting.get(n);
    if (!w) return;
    this.waiting.delete(n);
    if (error === undefined) w.resolve();
    else w.reject(new Error(error));
  }

  private expire(now: number): void {
    for (const [n, w] of this.waiting) {
      if (now - w.since < this.ackTimeoutMs) break; // insertion order = age order
      this.settle(n, `queue owner did not answer within ${this.ackTimeoutMs} ms`);
    }
  }

  private failAll(err: Error): void {
    for (const n of [...this.waiting.keys()]) this.settle(n, err.message);
  }
}

/**
 * Owner side: take one worker's batches. Registrations go through `registrar` (this process's
 * group-committed transaction), trace records into `trace`; acks go back once per turn, with up
 * to one name from `freeFiles(n)` per committed registration, and `committed` runs after each ack
 * (wake the scheduler).
 */
export function serveWorkerLink(
  worker: WorkerChannel,
  registrar: Registrar,
  trace: TraceSink,
  committed: () => void,
  freeFiles?: (n: number) => string[],
): void {
  let ack: AckMsg = { mg: 'ack', ok: [], err: [] };
  let scheduled = false;
  const send = (): void => {
    scheduled = false;
    const msg = ack;
    ack = { mg: 'ack', ok: [], err: [] };
    // A worker that died between its batch and our ack: its registrations are committed (the
    // files are durable, recovery would find them anyway); the failed send is not an error of ours.
    // (Names handed out with a lost ack stay in free/: a later look or the idle trim finds them.)
    if (worker.isConnected()) {
      const free = msg.ok.length > 0 ? (freeFiles?.(msg.ok.length) ?? []) : [];
      if (free.length > 0) msg.free = free;
      worker.send(msg, () => undefined);
    }
    if (msg.ok.length > 0) committed();
  };
  // Without a listener, an IPC write error on a dying worker would be thrown in the owner.
  worker.on('error', () => undefined);
  const queueAck = (): void => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(send); // after every registration of the same commit has settled
  };
  worker.on('message', (m: unknown) => {
    if (!isBatch(m)) return;
    for (const row of m.m) trace.message(row);
    for (const ev of m.e) trace.event(ev);
    for (const [n, r] of m.regs) {
      registrar(r).then(
        () => {
          ack.ok.push(n);
          queueAck();
        },
        (err: unknown) => {
          ack.err.push([n, err instanceof Error ? err.message : String(err)]);
          queueAck();
        },
      );
    }
  });
}
