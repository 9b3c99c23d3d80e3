/**
 * @module daemon/limits-link
 * With `serve --workers N`, the per-client connection limits and the SMTP AUTH throttle live in
 * the primary, so they hold across workers (the kernel hands a client's connections to any of
 * them): a worker asks over the cluster IPC channel at each counted connect (exempt IPs and
 * listeners with no limit never ask) and at each AUTH, and tells it when a counted connection
 * closes. The primary forgets a worker's open connections when it exits. A question unanswered
 * within ASK_TIMEOUT_MS (the primary gone or stalled) is answered "no limit" by the caller, as
 * Postfix's smtpd does without anvil.
 *   worker → primary: {mg:'lim', n, op, ...}   primary → worker: {mg:'limr', n, r}
 * Touches: the cluster IPC channel.
 */
import type { AuthGuard, AuthThrottle, Lockout } from '../smtp/auth-throttle.ts';
import { LocalConnectionCounter, type ClientLimitHit, type ClientLimitSettings, type ConnectionCounter } from '../smtp/client-limits.ts';

type Ask =
  | { op: 'admit'; listener: string; ip: string; s: ClientLimitSettings; now: number }
  | { op: 'release'; listener: string; ip: string }
  | { op: 'check' | 'failure'; ip: string; user: string; now: number }
  | { op: 'success'; ip: string; user: string };

type AskMsg = { mg: 'lim'; n: number } & Ask;
interface AnswerMsg {
  mg: 'limr';
  n: number;
  r: ClientLimitHit | Lockout | null;
}

const isAsk = (m: unknown): m is AskMsg => typeof m === 'object' && m !== null && (m as AskMsg).mg === 'lim';
const isAnswer = (m: unknown): m is AnswerMsg => typeof m === 'object' && m !== null && (m as AnswerMsg).mg === 'limr';

export const ASK_TIMEOUT_MS = 2000;

/** Worker side: the counter and the AUTH guard, answered by the primary. */
export class LimitsLink {
  private seq = 0;
  private readonly waiting = new Map<number, (r: AnswerMsg['r']) => void>();

  constructor(private readonly proc: NodeJS.Process) {
    proc.on('message', (m: unknown) => {
      if (!isAnswer(m)) return;
      const w = this.waiting.get(m.n);
      this.waiting.delete(m.n);
      w?.(m.r);
    });
  }

  private ask(a: Ask): Promise<AnswerMsg['r']> {
    return new Promise((resolve, reject) => {
      if (!this.proc.connected || !this.proc.send) return reject(new Error('primary gone'));
      const n = ++this.seq;
      const t = setTimeout(() => {
        this.waiting.delete(n);
        reject(new Error(`primary did not answer within ${ASK_TIMEOUT_MS} ms`));
      }, ASK_TIMEOUT_MS);
      t.unref();
      this.waiting.set(n, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.proc.send({ mg: 'lim', n, ...a }, (err: Error | null) => {
        if (err) reject(err);
      });
    });
  }

  private tell(a: Ask): void {
    if (this.proc.connected) this.proc.send?.({ mg: 'lim', n: 0, ...a }, () => undefined);
  }

  readonly connections: ConnectionCounter = {
    admit: async (listener, ip, s, now) => ((await this.ask({ op: 'admit', listener, ip, s, now })) as ClientLimitHit | null) ?? undefined,
    release: (listener, ip) => this.tell({ op: 'release', listener, ip }),
  };

  readonly auth: AuthGuard = {
    check: async (ip, user, now) => ((await this.ask({ op: 'check', ip, user, now })) as Lockout | null) ?? undefined,
    failure: async (ip, user, now) => ((await this.ask({ op: 'failure', ip, user, now })) as Lockout | null) ?? undefined,
    success: (ip, user) => this.tell({ op: 'success', ip, user }),
  };
}

/** The primary's end of one worker's channel. */
export interface LimitsChannel {
  on(event: 'message', listener: (m: unknown) => void): unknown;
  once(event: 'exit', listener: () => void): unknown;
  send(message: AnswerMsg, callback: (err: Error | null) => void): unknown;
  isConnected(): boolean;
}

/** Primary side: one counter and one throttle for every worker. */
export class LimitsServer {
  private readonly counter = new LocalConnectionCounter();

  constructor(readonly throttle: AuthThrottle) {}

  /** Answer one worker; its open connections are released when it exits. */
  serve(worker: LimitsChannel): void {
    const open = new Map<string, number>();
    const key = (listener: string, ip: string): string => `${listener}\n${ip}`;
    worker.on('message', (m: unknown) => {
      if (!isAsk(m)) return;
      let r: AnswerMsg['r'] = null;
      switch (m.op) {
        case 'admit':
          r = this.counter.admit(m.listener, m.ip, m.s, m.now) ?? null;
          if (r === null) open.set(key(m.listener, m.ip), (open.get(key(m.listener, m.ip)) ?? 0) + 1);
          break;
        case 'release': {
          const k = key(m.listener, m.ip);
          const n = open.get(k) ?? 0;
          if (n > 0) {
            this.counter.release(m.listener, m.ip);
            if (n > 1) open.set(k, n - 1);
            else open.delete(k);
          }
          return;
        }
        case 'check':
          r = this.throttle.check(m.ip, m.user, m.now) ?? null;
          break;
        case 'failure':
          r = this.throttle.failure(m.ip, m.user, m.now) ?? null;
          break;
        case 'success':
          this.throttle.success(m.ip, m.user);
          return;
      }
      if (worker.isConnected()) worker.send({ mg: 'limr', n: m.n, r }, () => undefined);
    });
    worker.once('exit', () => {
      for (const [k, n] of open) {
        const [listener = '', ip = ''] = k.split('\n');
        for (let i = 0; i < n; i++) this.counter.release(listener, ip);
      }
      open.clear();
    });
  }
}
