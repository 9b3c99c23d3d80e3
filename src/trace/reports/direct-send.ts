/**
 * @module trace/reports/direct-send
 * The Direct Send readiness report: before RejectDirectSend is turned on, every source that sent
 * anonymously with an accepted-domain sender (attribution `direct-send`, and mail already refused
 * by RejectDirectSend, enhanced code 5.7.68), grouped by client IP and sender address (MAIL FROM, case-insensitive), with
 * message count, first/last seen, HELO names, sample subjects, TLS use, distinct recipients, the
 * SPF result distribution, whether the organization's own SPF record authorises the IP (live, via
 * the injected SpfAuthorizer, with the matching mechanism), DKIM pass rate, DMARC results, a
 * classification and a recommendation (direct-send-classify.ts), and the summary line
 * "enabling RejectDirectSend now would reject N messages/day from K sources (M of them likely spoof)".
 * N is the window's messages divided by the days actually observed (from the later of the window
 * start and the oldest trace row, at least one day).
 * Recorded SPF/DKIM/DMARC columns may be null (not evaluated): null counts as unknown.
 * Touches: reads trace_message; calls the injected SpfAuthorizer.
 */
import { compileCidrs } from '../../core/cidr.ts';
import type { Db } from '../../core/sqlite.ts';
import { parseRecipients } from '../rows.ts';
import { traceReady } from '../store.ts';
import { authWord, DEFAULT_INTERNAL_RANGES, DIRECT_SEND_REPLY_LIKE, distribution, domainOf, isDirectSendRefusal, type Report, type ReportWindow } from './common.ts';
import { emptyWindowNote } from './coverage.ts';
import { classifySource, recommend, unknownSpfAuthorizer, type AuthCounts, type Classification, type SpfAuthorizer } from './direct-send-classify.ts';

const DAY_MS = 86_400_000;

export interface DirectSendOptions {
  /** Internal ranges for classification (default RFC 1918 + loopback + ULA). */
  internal?: readonly string[] | undefined;
  /** Live SPF evaluation of the organization's record (default: 'unknown'). */
  spfCheck?: SpfAuthorizer | undefined;
  /** Distinct sample subjects and HELO names kept per source (default 3 and 5). */
  sampleSubjects?: number | undefined;
  sampleHelos?: number | undefined;
  /** Only rows of this source ('gateway' or 'import:<name>'); default: every source. */
  source?: string | undefined;
}

/** One source: a client IP and a sender address. */
export interface DirectSendSource {
  clientIp: string;
  sender: string;
  senderDomain: string;
  messages: number;
  /** Of which already refused by RejectDirectSend (5.7.68). */
  rejected: number;
  firstSeen: string;
  lastSeen: string;
  heloNames: string[];
  sampleSubjects: string[];
  /** yes, no or mixed. */
  tls: string;
  recipients: number;
  spf: string;
  spfAuthorised: string;
  dkimPassRate: string;
  dmarc: string;
  certCn: string;
  classification: Classification;
  reason: string;
  action: string;
  recommendation: string;
  powershell: string;
}

interface Acc {
  clientIp: string;
  sender: string;
  messages: number;
  rejected: number;
  first: number;
  last: number;
  helos: Set<string>;
  subjects: Set<string>;
  tlsYes: number;
  /** Distinct recipients columns (JSON text; parsed once each at the end). */
  recipients: Set<string>;
  spf: Map<string, number>;
  dmarc: Map<string, number>;
  dkimKnown: number;
  dkimPass: number;
  auth: AuthCounts;
  certCn: string | undefined;
}

interface Row {
  client_ip: string;
  mail_from: string | null;
  received_at: number;
  helo: string | null;
  subject: string | null;
  tls_version: string | null;
  recipients: string;
  spf: string | null;
  dkim: string | null;
  dmarc: string | null;
  cert_cn: string | null;
  cert_verified: number | null;
  reply: string | null;
}

function newAcc(ip: string, sender: string): Acc {
  return {
    clientIp: ip, sender, messages: 0, rejected: 0, first: Infinity, last: -Infinity, helos: new Set(), subjects: new Set(), tlsYes: 0,
    recipients: new Set(), spf: new Map(), dmarc: new Map(), dkimKnown: 0, dkimPass: 0,
    auth: { messages: 0, spfKnown: 0, spfPass: 0, allKnown: 0, failedAll: 0 }, certCn: undefined,
  };
}

const words = new Map<string | null, string>();
/** authWord, memoised (a column holds few distinct values). */
function word(v: string | null): string {
  let w = words.get(v);
  if (w === undefined) {
    w = authWord(v);
    if (words.size < 10_000) words.set(v, w);
  }
  return w;
}

function distinctRecipients(texts: ReadonlySet<string>): number {
  const all = new Set<string>();
  for (const t of texts) for (const rc of parseRecipients(t)) all.add(rc.toLowerCase());
  return all.size;
}

function addRow(a: Acc, r: Row, maxSubjects: number, maxHelos: number): void {
  a.messages++;
  a.auth.messages++;
  if (isDirectSendRefusal(r.reply)) a.rejected++;
  a.first = Math.min(a.first, r.received_at);
  a.last = Math.max(a.last, r.received_at);
  if (r.helo && a.helos.size < maxHelos) a.helos.add(r.helo);
  if (r.subject && a.subjects.size < maxSubjects) a.subjects.add(r.subject);
  if (r.tls_version) a.tlsYes++;
  a.recipients.add(r.recipients);
  const spf = word(r.spf);
  const dkim = word(r.dkim);
  const dmarc = word(r.dmarc);
  a.spf.set(spf, (a.spf.get(spf) ?? 0) + 1);
  a.dmarc.set(dmarc, (a.dmarc.get(dmarc) ?? 0) + 1);
  if (dkim !== 'unknown') {
    a.dkimKnown++;
    if (dkim === 'pass') a.dkimPass++;
  }
  if (spf !== 'unknown') {
    a.auth.spfKnown++;
    if (spf === 'pass') a.auth.spfPass++;
  }
  if (spf !== 'unknown' && dkim !== 'unknown' && dmarc !== 'unknown') {
    a.auth.allKnown++;
    if ((spf === 'fail' || spf === 'softfail') && dkim !== 'pass' && dmarc === 'fail') a.auth.failedAll++;
  }
  if (r.cert_cn && r.cert_verified === 1) a.certCn = r.cert_cn;
}

/** Run `fn` over items with at most `n` in flight. */
async function mapLimit<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** Days actually observed in the window: from the later of its start and the oldest trace row. */
function observedDays(db: Db, w: ReportWindow, source?: string): number {
  const oldest = (
    source === undefined
      ? db.prepare('SELECT min(received_at) AS t FROM trace_message').get()
      : db.prepare('SELECT min(received_at) AS t FROM trace_message WHERE source = ?').get(source)
  ) as { t: number | null };
  const oldestAt = oldest.t;
  const from = Math.max(w.since, oldestAt ?? w.until);
  return Math.max(1, (w.until - from) / DAY_MS);
}

const fmtRate = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(1));

export const DIRECT_SEND_COLUMNS = [
  'clientIp', 'sender', 'messages', 'rejected', 'firstSeen', 'lastSeen', 'heloNames', 'sampleSubjects', 'tls', 'recipients',
  'spf', 'spfAuthorised', 'dkimPassRate', 'dmarc', 'classification', 'reason', 'recommendation', 'powershell',
];

/** Run the Direct Send readiness report. */
export async function directSendReport(db: Db, window: ReportWindow, opts: DirectSendOptions = {}): Promise<Report & { sources: DirectSendSource[] }> {
  const internal = compileCidrs(opts.internal ?? DEFAULT_INTERNAL_RANGES);
  const spfCheck = opts.spfCheck ?? unknownSpfAuthorizer;
  const groups = new Map<string, Acc>();
  let days = 1;
  if (traceReady(db)) {
    // Two indexed queries (attribution, received_at) and (status, received_at) rather than one OR.
    const cols = 'client_ip, mail_from, received_at, helo, subject, tls_version, recipients, spf, dkim, dmarc, cert_cn, cert_verified, reply';
    const bySource = opts.source === undefined ? '' : ' AND source = ?';
    const args: (string | number)[] = opts.source === undefined ? [window.since, window.until] : [window.since, window.until, opts.source];
    const directSend = db.prepare(`SELECT ${cols} FROM trace_message WHERE attribution = 'direct-send' AND received_at >= ? AND received_at < ?${bySource}`);
    const refused = db.prepare(
      `SELECT ${cols} FROM trace_message WHERE status = 'Rejected' AND received_at >= ? AND received_at < ?${bySource}
         AND reply LIKE '${DIRECT_SEND_REPLY_LIKE}' AND (attribution IS NULL OR attribution <> 'direct-send')`,
    );
    const all = function* (): Generator<Row> {
      yield* directSend.iterate(...args) as IterableIterator<Row>;
      yield* refused.iterate(...args) as IterableIterator<Row>;
    };
    for (const r of all()) {
      const sender = (r.mail_from ?? '').toLowerCase();
      const key = `${r.client_ip}\0${sender}`;
      let a = groups.get(key);
      if (!a) groups.set(key, (a = newAcc(r.client_ip, sender)));
      addRow(a, r, opts.sampleSubjects ?? 3, opts.sampleHelos ?? 5);
    }
    days = observedDays(db, window, opts.source);
  }
  const accs = [...groups.values()].sort((x, y) => y.messages - x.messages || x.clientIp.localeCompare(y.clientIp) || x.sender.localeCompare(y.sender));
  const spfs = await mapLimit(accs, 16, (a) =>
    spfCheck(a.clientIp, domainOf(a.sender)).catch((e: unknown) => ({ result: 'temperror', mechanism: e instanceof Error ? e.message : String(e) })),
  );
  const sources: DirectSendSource[] = accs.map((a, i) => {
    const spf = spfs[i] ?? { result: 'unknown' };
    const { classification, reason } = classifySource({ clientIp: a.clientIp, internal, auth: a.auth, spf });
    const senderDomain = domainOf(a.sender);
    const rec = recommend({ classification, clientIp: a.clientIp, sender: a.sender, senderDomain, certCn: a.certCn });
    return {
      clientIp: a.clientIp,
      sender: a.sender,
      senderDomain,
      messages: a.messages,
      rejected: a.rejected,
      firstSeen: new Date(a.first).toISOString(),
      lastSeen: new Date(a.last).toISOString(),
      heloNames: [...a.helos],
      sampleSubjects: [...a.subjects],
      tls: a.tlsYes === 0 ? 'no' : a.tlsYes === a.messages ? 'yes' : 'mixed',
      recipients: distinctRecipients(a.recipients),
      spf: distribution(a.spf),
      spfAuthorised: spf.result + (spf.mechanism ? ` (${spf.mechanism})` : ''),
      dkimPassRate: a.dkimKnown === 0 ? 'unknown' : `${Math.round((100 * a.dkimPass) / a.dkimKnown)}% (${a.dkimPass}/${a.dkimKnown})`,
      dmarc: distribution(a.dmarc),
      certCn: a.certCn ?? '',
      classification,
      reason,
      action: rec.action,
      recommendation: rec.command,
      powershell: rec.powershell,
    };
  });
  const total = sources.reduce((n, s) => n + s.messages, 0);
  const spoof = sources.filter((s) => s.classification === 'likely-spoof').length;
  const summary = [
    `enabling RejectDirectSend now would reject ${fmtRate(Math.round((total / days) * 10) / 10)} messages/day from ${sources.length} sources (${spoof} of them likely spoof)`,
  ];
  const empty = emptyWindowNote(db, window, opts.source);
  if (empty) summary.unshift(empty);
  if (sources.some((s) => s.action.startsWith('connector'))) {
    summary.push(
      'note: a Partner connector with --restrict-domains-to-ip/--restrict-domains-to-certificate locks its sender domain: other anonymous sources sending as that domain get 550 5.7.51 from then on, so add a connector (or user) for every legitimate source of a domain together',
    );
  }
  return { title: 'Direct Send readiness report', window, summary, sections: [{ name: 'sources', columns: DIRECT_SEND_COLUMNS, rows: sources.map((s) => ({ ...s })) }], sources };
}
