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
   * sent or last sent `renotifyMs` ago or more (its notifiedAt becomes `now`); else undefined.
   */
  claimNotify(id: number, now: number, renotifyMs: number): Promise<NotifyClaim | undefined>;
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
