/**
 * @module smtp/auth-throttle
 * SMTP AUTH brute-force throttling, kept outside any session so reconnecting does not reset it:
 * failures are counted per client IP and per user name in a window (`authThrottle`); past the
 * IP's ceiling that IP gets `454 4.7.0` for `lockoutSeconds` (doubled for each lockout of the same
 * IP within a day, at most 16 times); past the user's much higher ceiling the name is locked for
 * everyone except the IPs it logged in from before, so an attacker spread over many IPs cannot
 * lock the real user out. A locked client is answered before its password is checked (no oracle).
 * State lives in one process: with `serve --workers N` in the primary, which the workers ask
 * (daemon/limits-link.ts), so the counts hold across workers and reconnects.
 * Memory is bounded: entries past their window and lockout are swept, and at most MAX_ENTRIES
 * are kept per table (the oldest go first).
 * Touches: nothing (memory only).
 * RFCs: 4954 §6 (454 4.7.0 temporary authentication failure).
 */
import type { AuthThrottleSettings } from '../config/schema.ts';

interface Counter {
  /** Failure times within the window, oldest first. */
  failures: number[];
  lockedUntil: number;
  /** Lockouts in a row (each within a day of the last one's end). */
  strikes: number;
}

/** Why a client may not try to authenticate now. */
export interface Lockout {
  scope: 'ip' | 'user';
  until: number;
}

const MAX_ENTRIES = 100_000;
const DAY_MS = 86_400_000;
/** Known-good IPs remembered per user. */
const MAX_GOOD_IPS = 64;

/** The throttle as the receive side uses it: here, or in the primary process (answers may be promises). */
export interface AuthGuard {
  check(ip: string, user: string, now: number): Lockout | undefined | Promise<Lockout | undefined>;
  failure(ip: string, user: string, now: number): Lockout | undefined | Promise<Lockout | undefined>;
  success(ip: string, user: string): void;
}

export class AuthThrottle implements AuthGuard {
  private readonly ips = new Map<string, Counter>();
  private readonly users = new Map<string, Counter>();
  private readonly goodIps = new Map<string, Set<string>>();
  /** Failures counted and lockouts begun since start (logged by the daemon). */
  readonly stats = { failures: 0, ipLockouts: 0, userLockouts: 0, refused: 0 };

  constructor(private readonly settings: () => AuthThrottleSettings) {}

  /** The lockout in force for this IP or user name, if any (the IP's is checked first). */
  check(ip: string, user: string, now: number): Lockout | undefined {
    const byIp = this.ips.get(ip);
    if (byIp && byIp.lockedUntil > now) return this.refused({ scope: 'ip', until: byIp.lockedUntil });
    const name = user.toLowerCase();
    const byUser = this.users.get(name);
    if (byUser && byUser.lockedUntil > now && !this.goodIps.get(name)?.has(ip)) return this.refused({ scope: 'user', until: byUser.lockedUntil });
    return undefined;
  }

  /** Count a failure; returns the lockout it started, if any. */
  failure(ip: string, user: string, now: number): Lockout | undefined {
    const s = this.settings();
    this.stats.failures++;
    const windowMs = s.windowSeconds * 1000;
    let started: Lockout | undefined;
    if (s.ipFailures > 0 && this.count(this.ips, ip, now, windowMs) >= s.ipFailures) {
      started = { scope: 'ip', until: this.lock(this.ips, ip, now, s.lockoutSeconds * 1000, true) };
      this.stats.ipLockouts++;
    }
    const name = user.toLowerCase();
    if (name !== '' && s.userFailures > 0 && this.count(this.users, name, now, windowMs) >= s.userFailures) {
      const until = this.lock(this.users, name, now, s.lockoutSeconds * 1000, false);
      this.stats.userLockouts++;
      started ??= { scope: 'user', until };
    }
    return started;
  }

  /** A successful login: the IP's failures are forgotten and it becomes a known IP of the user. */
  success(ip: string, user: string): void {
    this.ips.delete(ip);
    const name = user.toLowerCase();
    let good = this.goodIps.get(name);
    if (!good) {
      good = new Set();
      this.goodIps.set(name, good);
      trim(this.goodIps);
    }
    good.delete(ip);
    good.add(ip);
    if (good.size > MAX_GOOD_IPS) good.delete(good.values().next().value as string);
  }

  private refused(l: Lockout): Lockout {
    this.stats.refused++;
    return l;
  }

  /** Add a failure at `now` to `key`'s window; returns the failures in the window. */
  private count(table: Map<string, Counter>, key: string, now: number, windowMs: number): number {
    let c = table.get(key);
    if (!c) {
      c = { failures: [], lockedUntil: 0, strikes: 0 };
      table.set(key, c);
      if (table.size > MAX_ENTRIES) sweep(table, now, windowMs);
    }
    while (c.failures.length > 0 && (c.failures[0] ?? 0) <= now - windowMs) c.failures.shift();
    c.failures.push(now);
    return c.failures.length;
  }

  /** Lock `key` (counted just before) from `now`; returns when the lockout ends. */
  private lock(table: Map<string, Counter>, key: string, now: number, lockMs: number, backoff: boolean): number {
    const c = table.get(key);
    if (!c) return now;
    c.strikes = backoff && c.lockedUntil > 0 && now - c.lockedUntil < DAY_MS ? Math.min(c.strikes + 1, 5) : 1;
    c.lockedUntil = now + lockMs * 2 ** (c.strikes - 1);
    c.failures = [];
    return c.lockedUntil;
  }
}

/** Drop entries with nothing in their window and no lockout in force; then the oldest past the cap. */
function sweep(table: Map<string, Counter>, now: number, windowMs: number): void {
  for (const [k, c] of table) {
    const last = c.failures[c.failures.length - 1] ?? 0;
    if (last <= now - windowMs && c.lockedUntil + DAY_MS <= now) table.delete(k);
  }
  trim(table);
}

function trim<V>(table: Map<string, V>): void {
  for (const k of table.keys()) {
    if (table.size <= MAX_ENTRIES) break;
    table.delete(k);
  }
}
