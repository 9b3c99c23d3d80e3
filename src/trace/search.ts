/**
 * @module trace/search
 * Message trace searches (what Exchange's Get-MessageTrace / the admin page ask): filters by time
 * window, sender, recipient, status, attribution, connector, connector type, client IP (exact or CIDR) and TLS
 * version, newest first. Builds the conditions for either store's dialect (stores/sqlite
 * trace-search and stores/postgres run them). SQL is parameterised only; filters SQL cannot
 * express exactly (CIDR ranges, Unicode case folding, JSON-escaped recipients) are prefiltered in
 * SQL where possible and checked in JS while rows stream, so `limit` stays exact.
 * Touches: nothing (query building).
 */
import { compileCidrs, parseCidr } from '../core/cidr.ts';
import type { TraceMessage, TraceStatus } from './events.ts';

export type TlsFilter = 'none' | '1.0' | '1.1' | '1.2' | '1.3';

export interface TraceFilter {
  /** Lower bound on received_at (ms epoch, inclusive). */
  since?: number | undefined;
  /** Upper bound on received_at (ms epoch, exclusive). */
  until?: number | undefined;
  /** Case-insensitive substring of MAIL FROM or header From. */
  sender?: string | undefined;
  /** Case-insensitive substring of any recipient. */
  recipient?: string | undefined;
  status?: TraceStatus | undefined;
  attribution?: string | undefined;
  /** Connector name (case-insensitive), or 'none' for messages no connector matched. */
  connector?: string | undefined;
  /** Connector type as the Inbound messages report groups it: none (no connector), partner, onpremises. */
  connectorType?: 'none' | 'partner' | 'onpremises' | undefined;
  /** SPF result word (pass, fail, softfail, neutral, none, temperror, permerror). */
  spf?: string | undefined;
  /** DMARC result word (pass, fail, none, temperror, permerror). */
  dmarc?: string | undefined;
  /** A DKIM result any signature had ('none' = unsigned). */
  dkim?: string | undefined;
  /** Only messages that failed SPF, DKIM and DMARC together. */
  spoofSuspect?: boolean | undefined;
  /** An exact IP or a CIDR range, IPv4 or IPv6 (IPv4-mapped IPv6 clients match IPv4 ranges). */
  clientIp?: string | undefined;
  /** TLS version of the inbound session, or 'none' for plaintext. */
  tls?: TlsFilter | undefined;
  /** Most rows returned (default 1000). */
  limit?: number | undefined;
}

export const DEFAULT_SEARCH_LIMIT = 1000;

/** The tls_version spellings each filter value matches (Node's getProtocol() first; Exchange's second). */
const TLS_VALUES: Readonly<Record<Exclude<TlsFilter, 'none'>, readonly string[]>> = Object.freeze({
  '1.0': ['TLSv1', 'TLSv1.0', 'TLS1.0'],
  '1.1': ['TLSv1.1', 'TLS1.1'],
  '1.2': ['TLSv1.2', 'TLS1.2'],
  '1.3': ['TLSv1.3', 'TLS1.3'],
});

type Check = (m: TraceMessage) => boolean;

/** A search as SQL fragments (`?` placeholders, in order) plus the checks SQL cannot make exactly. */
export interface TraceQuery {
  where: string[];
  params: (string | number)[];
  checks: Check[];
}
type Query = TraceQuery & { dialect: SearchDialect };

/** The two fragments whose spelling differs between engines. */
export interface SearchDialect {
  /** True when `?` (lower case ASCII) is a substring of lower(col). */
  contains(col: string): string;
  /** col equals `?`, ASCII case-insensitively. */
  equalsNoCase(col: string): string;
  /** col matches the LIKE pattern `?`, ASCII case-insensitively (SQLite's LIKE). */
  likeNoCase(col: string): string;
}

const SQLITE_DIALECT: SearchDialect = {
  contains: (c) => `instr(lower(${c}), ?) > 0`,
  equalsNoCase: (c) => `${c} = ? COLLATE NOCASE`,
  likeNoCase: (c) => `${c} LIKE ?`,
};

/** True when SQLite's ASCII-only lower() and a plain substring on JSON text are exact for `s`. */
const sqlSafe = (s: string): boolean => /^[\x20-\x7e]*$/.test(s) && !/["\\]/.test(s);

const includesFold = (hay: string | undefined, needle: string): boolean =>
  hay !== undefined && hay.toLowerCase().includes(needle);

function addText(q: Query, columns: string[], needle: string, check: Check): void {
  const n = needle.toLowerCase();
  if (sqlSafe(n)) {
    q.where.push(`(${columns.map((c) => q.dialect.contains(c)).join(' OR ')})`);
    for (let i = 0; i < columns.length; i++) q.params.push(n);
  }
  q.checks.push(check);
}

/** Character after the last one of `s`, for an index-friendly prefix range [s, next(s)). */
const rangeEnd = (s: string): string => s.slice(0, -1) + String.fromCharCode(s.charCodeAt(s.length - 1) + 1);

function addClientIp(q: Query, spec: string): void {
  const p = parseCidr(spec); // throws a TypeError naming the entry
  const matcher = compileCidrs([spec]);
  if (p.family === 4) {
    const octets = Math.floor(p.prefix / 8);
    const parts = p.address.split('.');
    if (octets === 4) {
      q.where.push('client_ip IN (?, ?)');
      q.params.push(p.address, `::ffff:${p.address}`);
    } else if (octets > 0) {
      const prefix = parts.slice(0, octets).join('.') + '.';
      q.where.push('((client_ip >= ? AND client_ip < ?) OR (client_ip >= ? AND client_ip < ?))');
      q.params.push(prefix, rangeEnd(prefix), `::ffff:${prefix}`, rangeEnd(`::ffff:${prefix}`));
    }
  }
  q.checks.push((m) => matcher.contains(m.clientIp));
}

/**
 * The search `f` as SQL fragments in `dialect` plus JS checks (module header). Throws on an
 * invalid filter (bad CIDR, unknown TLS value or connector type, bad auth result word).
 */
export function buildTraceQuery(f: TraceFilter, dialect: SearchDialect = SQLITE_DIALECT): TraceQuery {
  const q: Query = { where: [], params: [], checks: [], dialect };
  if (f.since !== undefined) {
    q.where.push('received_at >= ?');
    q.params.push(f.since);
  }
  if (f.until !== undefined) {
    q.where.push('received_at < ?');
    q.params.push(f.until);
  }
  if (f.sender) {
    const n = f.sender.toLowerCase();
    addText(q, ['mail_from', 'header_from'], f.sender, (m) => includesFold(m.mailFrom, n) || includesFold(m.headerFrom, n));
  }
  if (f.recipient) {
    const n = f.recipient.toLowerCase();
    addText(q, ['recipients'], f.recipient, (m) => m.recipients.some((r) => includesFold(r, n)));
  }
  if (f.status) {
    q.where.push('status = ?');
    q.params.push(f.status);
  }
  if (f.attribution) {
    q.where.push('attribution = ?');
    q.params.push(f.attribution);
  }
  if (f.connector) {
    if (f.connector.toLowerCase() === 'none') q.where.push("(connector IS NULL OR connector = '')");
    else {
      q.where.push(dialect.equalsNoCase('connector'));
      q.params.push(f.connector);
    }
  }
  if (f.connectorType === 'none') q.where.push("(connector IS NULL OR connector = '')");
  else if (f.connectorType === 'partner') q.where.push("connector_type = 'Partner'");
  else if (f.connectorType === 'onpremises') q.where.push("connector_type = 'OnPremises'");
  else if (f.connectorType !== undefined) throw new Error(`invalid connector type "${String(f.connectorType)}": expected none, partner or onpremises`);
  authFilters(f, q);
  if (f.clientIp) addClientIp(q, f.clientIp);
  if (f.tls) {
    if (f.tls === 'none') q.where.push("(tls_version IS NULL OR tls_version = '')");
    else {
      const values = TLS_VALUES[f.tls];
      if (!values) throw new Error(`invalid TLS filter "${String(f.tls)}": expected none, 1.0, 1.1, 1.2 or 1.3`);
      q.where.push(`tls_version IN (${values.map(() => '?').join(', ')})`);
      q.params.push(...values);
    }
  }
  return { where: q.where, params: q.params, checks: q.checks };
}

/** The row limit of a search; throws on a non-positive one. */
export function searchLimit(filter: TraceFilter): number {
  const limit = filter.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit <= 0) throw new Error(`invalid limit ${String(filter.limit)}: expected a positive integer`);
  return limit;
}

const RESULT_WORD = /^[a-z]+$/;

/** The auth-result filters: columns start with their result word ("fail p=reject …"). */
function authFilters(f: TraceFilter, q: Query): void {
  for (const [col, value] of [['spf', f.spf], ['dmarc', f.dmarc]] as const) {
    if (value === undefined) continue;
    const v = value.toLowerCase();
    if (!RESULT_WORD.test(v)) throw new Error(`invalid ${col} result "${value}"`);
    q.where.push(`(lower(${col}) = ? OR ${q.dialect.likeNoCase(`lower(${col})`)})`);
    q.params.push(v, `${v} %`);
  }
  if (f.dkim !== undefined) {
    const v = f.dkim.toLowerCase();
    if (!RESULT_WORD.test(v)) throw new Error(`invalid dkim result "${f.dkim}"`);
    if (v === 'none') q.where.push("lower(dkim) = 'none'");
    else {
      q.where.push(q.dialect.likeNoCase('dkim'));
      q.params.push(`%"result":"${v}"%`);
    }
  }
  if (f.spoofSuspect !== undefined) q.where.push(f.spoofSuspect ? 'spoof_suspect = 1' : '(spoof_suspect IS NULL OR spoof_suspect = 0)');
}

