/**
 * @module trace/reports/common
 * What every trace report shares: the report window (`--since`, clamped to the trace retention so
 * no report claims a period the store no longer holds), the shape reports return (sections of
 * rows plus summary lines, printed by the CLI as table, JSON or CSV), the TLS labels of Exchange's
 * Inbound messages report, normalisation of recorded SPF/DKIM/DMARC results (null = unknown), and
 * the internal address ranges used to classify sources.
 * Touches: nothing (pure).
 * RFCs: 1918 and 4193 (private and unique-local ranges), 5735 (loopback).
 */
import { normalizeIp } from '../../core/cidr.ts';
import { parseSince } from '../window.ts';
import type { TraceStore } from '../trace-store.ts';

const DAY_MS = 86_400_000;

/** A report's time window. */
export interface ReportWindow {
  /** Lower bound used (ms epoch, inclusive). */
  since: number;
  /** Upper bound (ms epoch, exclusive): now. */
  until: number;
  /** The lower bound asked for. */
  requested: number;
  /** True when `requested` was older than the retention and `since` was moved to it. */
  clamped: boolean;
  retentionDays: number;
  /** A note for the operator when the window was clamped. */
  note?: string | undefined;
}

/**
 * The window of `--since TEXT` bounded by the trace retention: a request reaching before the
 * retention cutoff uses the retention window and carries a note saying so (`clamp` false: not
 * bounded, for imported data, which retention never prunes). Throws the parseSince error on a bad window.
 */
export function reportWindow(sinceText: string, now: number, retentionDays: number, clamp = true): ReportWindow {
  const requested = parseSince(sinceText, now);
  const cutoff = now - retentionDays * DAY_MS;
  if (requested >= cutoff || !clamp) return { since: requested, until: now, requested, clamped: false, retentionDays };
  return {
    since: cutoff,
    until: now,
    requested,
    clamped: true,
    retentionDays,
    note: `--since ${sinceText} reaches beyond the trace retention (trace.retentionDays = ${retentionDays}); using the last ${retentionDays} days (imported data is kept: --source import:NAME reports on all of it)`,
  };
}

/** A table of a report. */
export interface ReportSection {
  name: string;
  columns: string[];
  rows: Record<string, unknown>[];
}

/** What a report returns: its sections (the first is the main one, used for CSV) and summary lines. */
export interface Report {
  title: string;
  window: ReportWindow;
  summary: string[];
  sections: ReportSection[];
}

/** Exchange's TLS labels: No TLS, TLS 1.0 … TLS 1.3 (anything else encrypted is "TLS (other)"). */
export type TlsLabel = 'No TLS' | 'TLS 1.0' | 'TLS 1.1' | 'TLS 1.2' | 'TLS 1.3' | 'TLS (other)';

/** Label a stored tls_version (Node's "TLSv1.3", Exchange's "TLS1.3", null = plaintext). */
export function tlsLabel(v: string | null | undefined): TlsLabel {
  if (v === null || v === undefined || v === '') return 'No TLS';
  const m = /^TLS(?:v)?1(?:\.([0-3]))?$/i.exec(v.trim());
  if (!m) return 'TLS (other)';
  return `TLS 1.${m[1] ?? '0'}` as TlsLabel;
}

/** The stored tls_version values a `--tls` filter value matches (mirrors trace/search). */
export const TLS_FILTER_VALUES: Readonly<Record<'1.0' | '1.1' | '1.2' | '1.3', readonly string[]>> = Object.freeze({
  '1.0': ['TLSv1', 'TLSv1.0', 'TLS1.0'],
  '1.1': ['TLSv1.1', 'TLS1.1'],
  '1.2': ['TLSv1.2', 'TLS1.2'],
  '1.3': ['TLSv1.3', 'TLS1.3'],
});

/**
 * A recorded authentication result reduced to its verdict word ("pass", "fail", "softfail",
 * "none", "neutral", "temperror", "permerror", …), lower case; null or empty = 'unknown'.
 * Accepts "pass", "Pass", "pass (reason)" and "spf=pass" alike.
 */
export function authWord(v: string | null | undefined): string {
  if (v === null || v === undefined) return 'unknown';
  const m = /^\s*(?:[a-z]+=)?([a-z]+)/i.exec(v);
  return m?.[1] ? m[1].toLowerCase() : 'unknown';
}

/** Default internal ranges: RFC 1918, loopback (IPv4 and IPv6) and IPv6 unique-local (ULA). */
export const DEFAULT_INTERNAL_RANGES: readonly string[] = Object.freeze([
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '::1/128',
  'fc00::/7',
]);

/** Day (UTC, YYYY-MM-DD) of an instant. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The client IP as a connector would list it: IPv4-mapped IPv6 reduced to IPv4. */
export function plainIp(ip: string): string {
  return normalizeIp(ip) || ip;
}

/** Domain of an address ('' for none). */
export function domainOf(address: string | null | undefined): string {
  if (!address) return '';
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** "k1:n1 k2:n2" from a count map, biggest first. */
export function distribution(counts: ReadonlyMap<string, number>): string {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
}

/** Number of whole or partial days in a window (at least 1), for per-day rates. */
export function windowDays(w: ReportWindow): number {
  return Math.max(1, (w.until - w.since) / DAY_MS);
}

/**
 * How the trace recognises a RejectDirectSend refusal: the enhanced status code Exchange defined for
 * it (5.7.68, reference §1.1), read out of the recorded reply line. The reply itself comes only from
 * smtp/replies.ts (trace/ may not import smtp/); imported Exchange data carries the same code.
 */
export const DIRECT_SEND_ENHANCED = '5.7.68';
/** SQL LIKE pattern for a recorded reply carrying DIRECT_SEND_ENHANCED ("550 5.7.68 …"). */
export const DIRECT_SEND_REPLY_LIKE = `5__ ${DIRECT_SEND_ENHANCED} %`;
/** True when a recorded reply line is a RejectDirectSend refusal. */
export function isDirectSendRefusal(reply: string | null | undefined): boolean {
  return typeof reply === 'string' && reply.split(' ')[1] === DIRECT_SEND_ENHANCED && reply.startsWith('5');
}

/** The row primitives reports use. */
export type ReportRows = Pick<TraceStore, 'directSendRows' | 'oldest' | 'hasRows' | 'sourceSpans' | 'importLeftOut' | 'inboundGroups' | 'trafficGroups' | 'egressGroups' | DashboardRows>;

/** The dashboard, rule-hit and alert reads (one block, like the interface's). */
export type DashboardRows =
  | 'dashboardGroups'
  | 'dashboardSources'
  | 'dashboardFailures'
  | 'ruleEventGroups'
  | 'ruleHitSamples'
  | 'firstDirectSend'
  | 'newSourceRows'
  | 'driftGroups'
  | 'connectorDays'
  | 'refusalHeads';
