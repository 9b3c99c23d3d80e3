/**
 * @module deliver/recipient-probe
 * Recipient verification by asking the next hop (Postfix's verify(8) behind
 * `reject_unverified_recipient`): a probe session EHLO, STARTTLS when offered (at the route's TLS
 * level; verify/secure check the certificate), MAIL FROM:<>, RCPT TO:<address>, QUIT — never
 * DATA. 2xx = the address exists, 5xx = it does not, anything else (4xx, no connection, timeout,
 * a failed certificate check) = cannot tell. Answers are cached per address (positive and
 * negative TTLs); "cannot tell" is not cached, and concurrent probes of one address share one
 * session. The next hop is the route serving the domain: an smtp route's host, or the first MX of
 * an mx route; a pickup route has nothing to ask and every address passes.
 * Touches: outbound TCP to next hops (through the injected dialler in tests).
 * RFCs: 5321 §3.3 (MAIL/RCPT), §4.2 (replies), 3207 (STARTTLS), 6125 (server identity).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parseAddress } from '../core/address.ts';
import type { Route } from '../config/schema.ts';
import { planMx, type MxResolver } from './mx.ts';
import { selectRoute } from './route.ts';
import type { ConnectTo } from './smtp.ts';
import { tlsOptions, tlsTarget, type TlsTarget } from './tls-policy.ts';

const MAX_CACHED = 100_000;

export type ProbeAnswer = 'exists' | 'unknown' | 'unverified';

export interface RecipientVerifierOptions {
  routes: () => readonly Route[];
  hostname: string;
  resolveMx: MxResolver;
  connectTo?: ConnectTo | undefined;
  /** Whole probe session, ms (default 20 s). */
  timeoutMs?: number;
  now?: () => number;
}

/** TTLs of the answers, seconds. */
export interface ProbeTtl {
  positive: number;
  negative: number;
}

export type RecipientVerifier = (rcpt: string, ttl: ProbeTtl) => Promise<ProbeAnswer>;

/** A line-oriented SMTP reply reader over a socket that can be swapped (after STARTTLS). */
class Dialogue {
  private buf = '';
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  constructor(private sock: Socket) {
    this.attach(sock);
  }

  attach(sock: Socket): void {
    this.sock = sock;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i).replace(/\r$/, ''));
        this.buf = this.buf.slice(i + 1);
      }
      this.wake?.();
    });
    sock.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    sock.on('error', () => undefined); // surfaces as 'close'
  }

  detach(): Socket {
    this.sock.removeAllListeners('data');
    return this.sock;
  }

  /** The next complete reply: its code and all its lines. */
  async reply(): Promise<{ code: number; text: string }> {
    const got: string[] = [];
    for (;;) {
      const line = this.lines.shift();
      if (line === undefined) {
        if (this.ended) throw new Error(`connection closed${got.length ? ` after: ${got.join(' ')}` : ''}`);
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      got.push(line);
      if (!/^\d{3}-/.test(line)) return { code: Number(line.slice(0, 3)) || 0, text: got.join('\n') };
    }
  }

  async cmd(line: string): Promise<{ code: number; text: string }> {
    this.sock.write(`${line}\r\n`);
    return this.reply();
  }

  close(): void {
    this.sock.destroy();
  }
}

/** One probe session with host:port; throws when it cannot tell. */
async function probeSession(route: Route, host: string, target: TlsTarget, rcpt: string, opts: RecipientVerifierOptions): Promise<'exists' | 'unknown' | 'unverified'> {
  const dial = opts.connectTo ? opts.connectTo(host, route.port) : { host, port: route.port };
  const plain = await new Promise<Socket>((resolve, reject) => {
    const s = netConnect({ host: dial.host, port: dial.port }, () => resolve(s));
    s.once('error', reject);
  });
  const d = new Dialogue(plain);
  const timer = setTimeout(() => d.close(), opts.timeoutMs ?? 20_000);
  try {
    if ((await d.reply()).code !== 220) return 'unverified';
    let ehlo = await d.cmd(`EHLO ${opts.hostname}`);
    if (ehlo.code !== 250) return 'unverified';
    const offered = /^250[ -]STARTTLS\b/im.test(ehlo.text);
    if (target.level !== 'none' && (offered || target.level !== 'may')) {
      if ((await d.cmd('STARTTLS')).code !== 220) return 'unverified';
      const t = await tlsOptions(route, target);
      const raw = d.detach();
      const secure = await new Promise<Socket>((resolve, reject) => {
        const s = tlsConnect({ socket: raw, ...t.tls }, () => resolve(s));
        s.once('error', reject);
      });
      d.attach(secure);
      ehlo = await d.cmd(`EHLO ${opts.hostname}`);
      if (ehlo.code !== 250) return 'unverified';
    }
    if ((await d.cmd('MAIL FROM:<>')).code !== 250) return 'unverified';
    const answer = await d.cmd(`RCPT TO:<${rcpt}>`);
    void d.cmd('QUIT').catch(() => undefined);
    if (answer.code >= 200 && answer.code < 300) return 'exists';
    return answer.code >= 500 ? 'unknown' : 'unverified';
  } finally {
    clearTimeout(timer);
    setTimeout(() => d.close(), 100).unref();
  }
}

/** The host and TLS target to ask about `domain`, or undefined when there is no SMTP next hop. */
async function nextHopOf(route: Route, domain: string, resolveMx: MxResolver): Promise<{ host: string; target: TlsTarget } | 'unverified' | undefined> {
  if (route.type === 'smtp' && route.host) return { host: route.host, target: tlsTarget(route, route.host) };
  if (route.type !== 'mx') return undefined;
  const plan = await planMx(domain, resolveMx);
  if (plan.kind !== 'hosts' || !plan.hosts[0]) return 'unverified';
  return { host: plan.hosts[0], target: tlsTarget(route, plan.hosts[0], domain) };
}

/** A cached recipient verifier over the current routes. */
export function createRecipientVerifier(opts: RecipientVerifierOptions): RecipientVerifier {
  const cache = new Map<string, { answer: 'exists' | 'unknown'; until: number }>();
  const inflight = new Map<string, Promise<ProbeAnswer>>();
  const now = opts.now ?? Date.now;
  const probe = async (rcpt: string, ttl: ProbeTtl): Promise<ProbeAnswer> => {
    if (/[\x00-\x20<>]/.test(rcpt)) return 'unknown'; // nothing a next hop could hold, and no command injection
    const domain = parseAddress(rcpt).domain;
    const route = selectRoute(opts.routes(), domain);
    if (!route) return 'unverified';
    const hop = await nextHopOf(route, domain, opts.resolveMx);
    if (hop === undefined) return 'exists';
    if (hop === 'unverified') return hop;
    const answer = await probeSession(route, hop.host, hop.target, rcpt, opts).catch((): ProbeAnswer => 'unverified');
    if (answer !== 'unverified') {
      cache.set(rcpt.toLowerCase(), { answer, until: now() + (answer === 'exists' ? ttl.positive : ttl.negative) * 1000 });
      // bounded: an attacker guessing addresses must not grow it without end (oldest out first)
      for (const k of cache.keys()) {
        if (cache.size <= MAX_CACHED) break;
        cache.delete(k);
      }
    }
    return answer;
  };
  return async (rcpt, ttl) => {
    const key = rcpt.toLowerCase();
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.answer;
    const running = inflight.get(key);
    if (running) return running;
    const p = probe(rcpt, ttl).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  };
}
