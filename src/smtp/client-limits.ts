/**
 * @module smtp/client-limits
 * Per-client-IP connection limits of one listener, so one client cannot starve the rest (Postfix's
 * anvil: smtpd_client_connection_count_limit and smtpd_client_connection_rate_limit):
 *   - concurrency: connections open at once from one IP (`maxConnectionsPerClient`);
 *   - rate: connection attempts from one IP per minute (`maxConnectionRatePerClient`), counted in
 *     a window that starts at the IP's first attempt (as anvil's time unit), refused ones included.
 * IPs of an inbound connector and allow-listed IPs are exempt (the caller decides). The counts live
 * in one process: with `serve --workers N` in the primary (daemon/limits-link.ts), so a limit holds
 * across workers.
 * Memory is bounded: rate windows that ended are swept once the table grows past SWEEP_AT.
 * (The open counts are bounded by the connections themselves.)
 * Touches: nothing (memory only).
 */
import type { PolicySnapshot } from '../policy/types.ts';

/** Why a connection is refused. */
export type ClientLimitHit = 'count' | 'rate';

export interface ClientLimitSettings {
  maxConnectionsPerClient: number;
  maxConnectionRatePerClient: number;
}

const RATE_WINDOW_MS = 60_000;
const SWEEP_AT = 50_000;

export class ClientLimiter {
  private readonly open = new Map<string, number>();
  private readonly rate = new Map<string, { start: number; n: number }>();

  /**
   * A new connection from `ip`: undefined = admitted (counted until `release`), else the limit it
   * hit. Every attempt counts towards the rate.
   */
  admit(ip: string, s: ClientLimitSettings, now: number): ClientLimitHit | undefined {
    if (s.maxConnectionRatePerClient > 0 && this.attempt(ip, now) > s.maxConnectionRatePerClient) return 'rate';
    const n = this.open.get(ip) ?? 0;
    if (s.maxConnectionsPerClient > 0 && n >= s.maxConnectionsPerClient) return 'count';
    this.open.set(ip, n + 1);
    return undefined;
  }

  /** An admitted connection from `ip` closed. */
  release(ip: string): void {
    const n = (this.open.get(ip) ?? 0) - 1;
    if (n > 0) this.open.set(ip, n);
    else this.open.delete(ip);
  }

  /** Connections open from `ip` (admitted ones). */
  openFrom(ip: string): number {
    return this.open.get(ip) ?? 0;
  }

  private attempt(ip: string, now: number): number {
    let w = this.rate.get(ip);
    if (!w || now - w.start >= RATE_WINDOW_MS) {
      if (!w && this.rate.size >= SWEEP_AT) this.sweep(now);
      w = { start: now, n: 0 };
      this.rate.set(ip, w);
    }
    w.n++;
    return w.n;
  }

  /** Drop ended windows; past twice SWEEP_AT live ones (a flood of addresses), the oldest go. */
  private sweep(now: number): void {
    for (const [ip, w] of this.rate) if (now - w.start >= RATE_WINDOW_MS) this.rate.delete(ip);
    for (const ip of this.rate.keys()) {
      if (this.rate.size < 2 * SWEEP_AT) break;
      this.rate.delete(ip);
    }
  }
}

/**
 * Where the counts live: this process (LocalConnectionCounter), or the primary process so that the
 * limits hold across `serve --workers N` (daemon/limits-link.ts). Keyed by listener name.
 */
export interface ConnectionCounter {
  admit(listener: string, ip: string, s: ClientLimitSettings, now: number): ClientLimitHit | undefined | Promise<ClientLimitHit | undefined>;
  release(listener: string, ip: string): void;
}

/** One ClientLimiter per listener name, in this process. */
export class LocalConnectionCounter implements ConnectionCounter {
  private readonly byListener = new Map<string, ClientLimiter>();

  admit(listener: string, ip: string, s: ClientLimitSettings, now: number): ClientLimitHit | undefined {
    let l = this.byListener.get(listener);
    if (!l) {
      l = new ClientLimiter();
      this.byListener.set(listener, l);
    }
    return l.admit(ip, s, now);
  }

  release(listener: string, ip: string): void {
    this.byListener.get(listener)?.release(ip);
  }
}

/** IPs exempt from the limits: those of an (enabled) inbound connector and the allow list. */
export function limitExempt(ip: string, snap: Pick<PolicySnapshot, 'allow' | 'connectors'>): boolean {
  return snap.allow.ips.contains(ip) || snap.connectors.some((c) => c.ips.contains(ip));
}
