/**
 * @module alerts/store
 * Where alerts are kept, behind an interface with two adapters: the node's SQLite file
 * (stores/sqlite/alert-store.ts) and, on a fleet, the shared PostgreSQL schema
 * (stores/postgres/alert-store.ts). One open alert per kind and key (found again: its count and
 * last time grow, no new row); acknowledged (who, when), it is closed, and found again after that
 * it is a new alert. Sending is claimed in the store (claimNotify), so of several nodes raising the
 * same alert at once one sends it, at most once per `renotifyMinutes`. Also the time of the last
 * evaluation of the trace rules, so a restart (or a new lock holder) looks at what arrived since.
 * Touches: nothing (the adapters do).
 */
import type { AlertKind, Candidate } from './types.ts';

export interface AlertRow {
  id: number;
  kind: AlertKind;
  key: string;
  summary: string;
  detail: Record<string, unknown>;
  firstAt: number;
  lastAt: number;
  count: number;
  state: 'open' | 'acked';
  ackedBy?: string | undefined;
  ackedAt?: number | undefined;
  notifiedAt?: number | undefined;
}

/** A claim to send an alert: what to put back if the sending fails. */
export interface NotifyClaim {
  id: number;
  /** The lease mark written as notifiedAt while the claim is held. */
  at: number;
  previous: number | undefined;
}

export interface AlertStore {
  /**
   * Record a finding: a new open alert, or the open one of the same kind and key found again;
   * undefined when an acknowledgement still covers it (Candidate.seenAt; else `quietMs` after the ack).
   */
  raise(c: Candidate, now: number, quietMs?: number): Promise<AlertRow | undefined>;
  /**
   * Take the sending of open alert `id` at `now`: granted to one caller only, when it was never
   * sent or last sent `renotifyMs` ago or more; else undefined. The claim is a lease: notifiedAt
   * becomes `now - renotifyMs + leaseMs` (at most `now`), so an alert whose claimant died before
   * confirming is due again `leaseMs` later instead of a whole renotify period.
   */
  claimNotify(id: number, now: number, renotifyMs: number, leaseMs: number): Promise<NotifyClaim | undefined>;
  /** The claimed alert was sent at `at` (its notifiedAt); a claim taken over since changes nothing. */
  confirmNotify(claim: NotifyClaim, at: number): Promise<void>;
  /** Give a claim back (the sending failed): tried again at the next evaluation. */
  releaseNotify(claim: NotifyClaim): Promise<void>;
  get(id: number): Promise<AlertRow | undefined>;
  /** Newest first. */
  list(opts?: { state?: 'open' | 'acked'; limit?: number }): Promise<AlertRow[]>;
  /** Close an open alert; false when there is no open alert with that id. */
  ack(id: number, by: string, now: number): Promise<boolean>;
  openByKind(): Promise<Record<string, number>>;
  lastRun(): Promise<number | undefined>;
  setLastRun(at: number): Promise<void>;
}
