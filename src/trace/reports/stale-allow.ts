/**
 * @module trace/reports/stale-allow
 * "Review your allow lists and connectors regularly", made concrete: every inbound connector,
 * every connector IP/CIDR and every allow-list entry (IP/CIDR or sender domain) that matched no
 * traffic in the window (default 90 days). What counts as matching:
 * - a connector: a message attributed to it (any status);
 * - a connector IP/CIDR: a message attributed to that connector from a client IP inside it;
 * - an allow-list IP/CIDR: any message or refused connection from a client IP inside it;
 * - an allow-list sender domain ("d" or "*.d"): a MAIL FROM in that domain (or its subdomains).
 * Disabled connectors are listed with `enabled: false` (they can match nothing).
 * The inputs are plain data (the caller passes the config's connectors and lists) and the
 * traffic groups come from the TraceStore (each adapter's own SQL), so this file is pure.
 * Touches: reads the trace through the given store.
 */
import { compileCidrs } from '../../core/cidr.ts';
import { matchDomainPattern, normalizeDomain } from '../../core/address.ts';
import type { Report, ReportWindow } from './common.ts';
import type { TraceStore, TrafficGroups } from '../trace-store.ts';

export interface StaleAllowInput {
  connectors: readonly { name: string; enabled: boolean; senderIPAddresses: readonly string[] }[];
  allow: { ips: readonly string[]; senderDomains: readonly string[] };
}

export interface StaleEntry {
  kind: 'connector' | 'connector-ip' | 'allow-ip' | 'allow-domain';
  connector: string;
  entry: string;
  enabled: boolean;
  /** Messages it matched in the window (0 = stale). */
  messages: number;
  lastSeen: string;
}

const COLUMNS = ['kind', 'connector', 'entry', 'enabled', 'messages', 'lastSeen'];

interface Seen {
  n: number;
  last: number;
}

function bump(m: Map<string, Seen>, key: string, n: number, last: number): void {
  const cur = m.get(key) ?? { n: 0, last: 0 };
  cur.n += n;
  cur.last = Math.max(cur.last, last);
  m.set(key, cur);
}

const iso = (s: Seen | undefined): string => (s && s.n > 0 ? new Date(s.last).toISOString() : '');

/**
 * All entries with their traffic count over any trace store (the same result on every adapter);
 * `includeUsed` false (the default) keeps only the stale ones (no traffic in the window).
 */
export async function staleAllowReportFrom(store: Pick<TraceStore, 'trafficGroups'>, window: ReportWindow, input: StaleAllowInput, opts: { includeUsed?: boolean } = {}): Promise<Report & { entries: StaleEntry[] }> {
  return assemble(window, input, await store.trafficGroups(window), opts);
}

function assemble(window: ReportWindow, input: StaleAllowInput, traffic: TrafficGroups, opts: { includeUsed?: boolean }): Report & { entries: StaleEntry[] } {
  const { byConnIp, byIp, byDomain } = traffic;
  const entries: StaleEntry[] = [];
  const connSeen = new Map<string, Seen>();
  for (const r of byConnIp) bump(connSeen, r.connector.toLowerCase(), r.n, r.last);
  for (const c of input.connectors) {
    const key = c.name.toLowerCase();
    const s = connSeen.get(key);
    entries.push({ kind: 'connector', connector: c.name, entry: c.name, enabled: c.enabled, messages: s?.n ?? 0, lastSeen: iso(s) });
    const mine = byConnIp.filter((r) => r.connector.toLowerCase() === key);
    for (const cidr of c.senderIPAddresses) {
      const m = compileCidrs([cidr]);
      const seen: Seen = { n: 0, last: 0 };
      for (const r of mine) if (m.contains(r.client_ip)) (seen.n += r.n), (seen.last = Math.max(seen.last, r.last));
      entries.push({ kind: 'connector-ip', connector: c.name, entry: cidr, enabled: c.enabled, messages: seen.n, lastSeen: iso(seen) });
    }
  }
  for (const cidr of input.allow.ips) {
    const m = compileCidrs([cidr]);
    const seen: Seen = { n: 0, last: 0 };
    for (const r of byIp) if (m.contains(r.client_ip)) (seen.n += r.n), (seen.last = Math.max(seen.last, r.last));
    entries.push({ kind: 'allow-ip', connector: '', entry: cidr, enabled: true, messages: seen.n, lastSeen: iso(seen) });
  }
  for (const pattern of input.allow.senderDomains) {
    const p = pattern.startsWith('*.') ? '*.' + normalizeDomain(pattern.slice(2)) : normalizeDomain(pattern);
    const seen: Seen = { n: 0, last: 0 };
    for (const r of byDomain) if (matchDomainPattern(normalizeDomain(r.d), p) >= 0) (seen.n += r.n), (seen.last = Math.max(seen.last, r.last));
    entries.push({ kind: 'allow-domain', connector: '', entry: pattern, enabled: true, messages: seen.n, lastSeen: iso(seen) });
  }
  const shown = opts.includeUsed ? entries : entries.filter((e) => e.messages === 0);
  const stale = entries.filter((e) => e.messages === 0).length;
  return {
    title: 'Stale connectors and allow-list entries',
    window,
    summary: [`${stale} of ${entries.length} connectors, connector IPs and allow-list entries matched no traffic since ${new Date(window.since).toISOString()}`],
    sections: [{ name: 'entries', columns: COLUMNS, rows: shown.map((e) => ({ ...e })) }],
    entries: shown,
  };
}
