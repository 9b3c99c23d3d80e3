/**
 * @module trace/reports/direct-send
 * The Direct Send readiness report: before RejectDirectSend is turned on, every source that sent
 * anonymously with an accepted-domain sender (attribution `direct-send`, and mail already refused
 * by RejectDirectSend, enhanced code 5.7.68), grouped by client IP and sender address (MAIL FROM, case-insensitive), with
 * message count, first/last seen, HELO names, sample subjects, TLS use, distinct recipients, the
 * SPF result distribution, whether the organization's own SPF record authorises the IP (live, via
 * the injected SpfAuthorizer, with the matching mechanism), DKIM pass rate, DMARC results, a
 * classification with the signals that decided it and warnings (direct-send-classify.ts, over
 * direct-send-evidence.ts: recorded auth results and Exchange's own verdicts of imported rows), a
 * recommendation (direct-send-recommend.ts), and the summary line
 * "enabling RejectDirectSend now would reject N messages/day from K sources (M of them likely spoof)".
 * N is the window's messages divided by the days actually observed (from the later of the window
 * start and the oldest trace row, at least one day).
 * Recorded SPF/DKIM/DMARC columns may be null (not evaluated): null counts as unknown.
 * A row without a client IP, or imported as outbound or intra-org, is never a source (it never came
 * from an anonymous SMTP client); the summary counts the imported copies left out and why.
 * Touches: the given TraceStore's rows (read); calls the injected SpfAuthorizer.
 */
import { compileCidrs } from '../../core/cidr.ts';
import { parseRecipients } from '../rows.ts';
import type { DirectSendRow } from '../trace-store.ts';
import { authWord, DEFAULT_INTERNAL_RANGES, distribution, domainOf, isDirectSendRefusal, type Report, type ReportRows, type ReportWindow } from './common.ts';
import { parseExoVerdicts } from '../exo-verdicts.ts';
import { emptyWindowNoteFrom } from './coverage.ts';
import { classifySource, unknownSpfAuthorizer, type Classification, type SpfAuthorizer } from './direct-send-classify.ts';
import { addEvidence, newEvidence, type Evidence } from './direct-send-evidence.ts';
import { recommend } from './direct-send-recommend.ts';

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
  /** The signals that decided the class ("organization's SPF: fail (-all)", "Status Quarantined 2/2" …). */
  signals: string[];
  warnings: string[];
  /** The SPF term that authorised the IP, and the shared sending service it names (if any). */
  spfMechanism: string;
  sharedService: string;
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
  evidence: Evidence;
  certCn: string | undefined;
}

type Row = DirectSendRow;

function newAcc(ip: string, sender: string): Acc {
  return {
    clientIp: ip, sender, messages: 0, rejected: 0, first: Infinity, last: -Infinity, helos: new Set(), subjects: new Set(), tlsYes: 0,
    recipients: new Set(), spf: new Map(), dmarc: new Map(), evidence: newEvidence(), certCn: undefined,
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
  addEvidence(a.evidence, { spf, dkim, dmarc, compauth: word(r.compauth), exo: parseExoVerdicts(r.exo_verdicts) });
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
async function observedDays(rows: ReportRows, w: ReportWindow, source?: string): Promise<number> {
  const oldestAt = await rows.oldest(source);
  const from = Math.max(w.since, oldestAt ?? w.until);
  return Math.max(1, (w.until - from) / DAY_MS);
}

const fmtRate = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(1));

export const DIRECT_SEND_COLUMNS = [
  'clientIp', 'sender', 'messages', 'rejected', 'firstSeen', 'lastSeen', 'heloNames', 'sampleSubjects', 'tls', 'recipients',
  'spf', 'spfAuthorised', 'dkimPassRate', 'dmarc', 'classification', 'reason', 'signals', 'warnings', 'action', 'recommendation', 'powershell',
];

/** Imported copies that are never Direct Send, by why (Connectors, direction, no client IP). */
async function leftOut(rows: ReportRows, w: ReportWindow, source?: string): Promise<string | undefined> {
  const { connector: conn, direction: dir, noIp: noip } = await rows.importLeftOut({ since: w.since, until: w.until, source });
  if (conn + dir + noip === 0) return undefined;
  return `imported copies not counted as Direct Send: ${conn} through a connector (Connectors/connector_id), ${dir} outbound or intra-org (EmailDirection/directionality, or ToIP set), ${noip} without a client IP`;
}

/** Run the Direct Send readiness report over any trace store (the same result on every adapter). */
export async function directSendReportFrom(rows: ReportRows, window: ReportWindow, opts: DirectSendOptions = {}): Promise<Report & { sources: DirectSendSource[]; days: number }> {
  const internal = compileCidrs(opts.internal ?? DEFAULT_INTERNAL_RANGES);
  const spfCheck = opts.spfCheck ?? unknownSpfAuthorizer;
  const groups = new Map<string, Acc>();
  for await (const r of rows.directSendRows({ since: window.since, until: window.until, source: opts.source })) {
    const sender = (r.mail_from ?? '').toLowerCase();
    const key = `${r.client_ip}\0${sender}`;
    let a = groups.get(key);
    if (!a) groups.set(key, (a = newAcc(r.client_ip, sender)));
    addRow(a, r, opts.sampleSubjects ?? 3, opts.sampleHelos ?? 5);
  }
  const days = await observedDays(rows, window, opts.source);
  const accs = [...groups.values()].sort((x, y) => y.messages - x.messages || x.clientIp.localeCompare(y.clientIp) || x.sender.localeCompare(y.sender));
  const spfs = await mapLimit(accs, 16, (a) =>
    spfCheck(a.clientIp, domainOf(a.sender)).catch((e: unknown) => ({ result: 'temperror', mechanism: e instanceof Error ? e.message : String(e) })),
  );
  const sources: DirectSendSource[] = accs.map((a, i) => {
    const spf = spfs[i] ?? { result: 'unknown' };
    const senderDomain = domainOf(a.sender);
    const c = classifySource({ clientIp: a.clientIp, senderDomain, internal, evidence: a.evidence, spf, helos: [...a.helos], certCn: a.certCn });
    const { classification, reason } = c;
    const rec = recommend({ classification, clientIp: a.clientIp, sender: a.sender, senderDomain, certCn: a.certCn, spfMechanism: spf.mechanism, sharedService: c.sharedService });
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
      dkimPassRate: a.evidence.dkimKnown === 0 ? 'unknown' : `${Math.round((100 * a.evidence.dkimPass) / a.evidence.dkimKnown)}% (${a.evidence.dkimPass}/${a.evidence.dkimKnown})`,
      dmarc: distribution(a.dmarc),
      certCn: a.certCn ?? '',
      classification,
      reason,
      signals: c.signals,
      warnings: c.warnings,
      spfMechanism: spf.mechanism ?? '',
      sharedService: c.sharedService ?? '',
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
  const empty = await emptyWindowNoteFrom(rows, window, opts.source);
  if (empty) summary.unshift(empty);
  if (sources.some((s) => s.action.startsWith('connector'))) {
    summary.push(
      'note: the connectors are created without restrictions; --restrict-domains-to-ip/--restrict-domains-to-certificate locks a sender domain (every other anonymous source of it is refused with 5.7.51), so restrict only once every legitimate source of the domain has its path and a quiet period is over (mailgate audit plan stages this)',
    );
  }
  const warned = sources.filter((s) => s.warnings.length).length;
  if (warned) summary.push(`warning: ${warned} source(s) carry a warning (see the warnings column): an internal range on a loopback or NAT address, or contradicted by evidence`);
  const out = await leftOut(rows, window, opts.source);
  if (out) summary.push(out);
  return { title: 'Direct Send readiness report', window, summary, sections: [{ name: 'sources', columns: DIRECT_SEND_COLUMNS, rows: sources.map((s) => ({ ...s })) }], sources, days };
}
