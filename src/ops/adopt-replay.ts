/**
 * @module ops/adopt-replay
 * The part of an "Adopt as connector" preview that the rejection replay (ops/policy-replay) does
 * not show: over the window, how many of the gateway's transactions from the source's evidence
 * (its client IP, or its verified client certificate's CN) the candidate would attribute to the new
 * connector, and what they are attributed to now. A connector without a domain restriction
 * changes no accept/reject outcome while RejectDirectSend is off, so this is what the admin sees
 * change. Bounded: at most ROW_LIMIT rows are read.
 * Touches: the trace tables (read only).
 */
import type { Db } from '../core/sqlite.ts';
import { evaluateTransaction } from '../policy/index.ts';
import type { PolicySnapshot } from '../policy/types.ts';
import type { ReportWindow } from '../trace/reports/index.ts';
import { inputOf, stringList, type FactRow } from './policy-replay.ts';

/** Rows read at most (a source's messages in the replay window). */
export const ROW_LIMIT = 100_000;

export interface AttributionShift {
  /** The source's transactions in the window (its IPs or certificate). */
  messages: number;
  /** Of them, attributed to the new connector under the candidate. */
  toConnector: number;
  /** Attribution now → count (e.g. "direct-send": 12). */
  now: Record<string, number>;
  /** A few queue ids with their subject. */
  samples: string[];
  /** True when ROW_LIMIT cut the count short. */
  truncated: boolean;
}

/** Replay the source's transactions under both snapshots: who the candidate attributes to `connector`. */
export function attributionShift(
  db: Db,
  window: ReportWindow,
  current: PolicySnapshot,
  candidate: PolicySnapshot,
  match: { ips: readonly string[]; certCn?: string | undefined },
  connector: string,
): AttributionShift {
  const ips = [...new Set(match.ips)];
  const byIp = ips.length ? `client_ip IN (${ips.map(() => '?').join(', ')})` : '0';
  const byCert = match.certCn ? ' OR (cert_cn = ? AND cert_verified = 1)' : '';
  const rows = db
    .prepare(
      `SELECT id, client_ip, helo, listener, tls_version, cert_cn, cert_sans, cert_verified, auth_user, mail_from, header_from, recipients, subject
         FROM trace_message WHERE received_at >= ? AND received_at < ? AND (source IS NULL OR source = 'gateway') AND (${byIp}${byCert})
         ORDER BY received_at, id LIMIT ${ROW_LIMIT + 1}`,
    )
    .all(window.since, window.until, ...ips, ...(match.certCn ? [match.certCn] : [])) as (FactRow & { subject: string | null })[];
  const out: AttributionShift = { messages: 0, toConnector: 0, now: {}, samples: [], truncated: rows.length > ROW_LIMIT };
  for (const r of rows.slice(0, ROW_LIMIT)) {
    const facts = { ...inputOf(r), mailFrom: r.mail_from ?? undefined, rcpts: stringList(r.recipients), headerFrom: r.header_from ?? undefined };
    const before = evaluateTransaction(facts, current, { rules: false }).attribution;
    const after = evaluateTransaction(facts, candidate, { rules: false }).attribution;
    out.messages++;
    const was = before?.kind ?? '(none)';
    out.now[was] = (out.now[was] ?? 0) + 1;
    if (after?.kind === 'connector' && after.connector === connector && !(before?.kind === 'connector' && before.connector === connector)) {
      out.toConnector++;
      if (out.samples.length < 3) out.samples.push(`${r.id}${r.subject ? ` "${r.subject}"` : ''}`);
    }
  }
  return out;
}
