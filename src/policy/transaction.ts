/**
 * @module policy/transaction
 * evaluateTransaction(): a whole SMTP transaction's facts judged in one call, stage by stage exactly
 * as smtp/ judges them (handlers.ts: connect, MAIL, each RCPT; data.ts: end of DATA, then the
 * transport rules of the snapshot when end of DATA did not refuse). The what-if (`policy test`),
 * the replay over the trace and the API all build on it, so none of them re-implements the stage
 * order. Each stage's input is what smtp/session.ts policyInput() gives at that point: MAIL FROM
 * from MAIL on, the count of recipients accepted before the one judged, and at end of DATA the
 * count of accepted recipients with the header From facts and the SPF/DKIM/DMARC summary.
 * `evaluate` may be replaced by a memoised one (the replay's cache): it must give evaluate()'s answer.
 * Touches: nothing (pure: no I/O, no clock — the rules' `now` is a fact). RFC 5321 §3.3, §4.1.1.
 */
import { evaluate as evaluateStage } from './evaluate.ts';
import { evaluateSnapshotRules, type RuleMessage, type RuleOutcome } from './rules/index.ts';
import type { Attribution, AuthSummary, CertFacts, PolicyInput, PolicySnapshot, Stage, Verdict } from './types.ts';

/** Everything known about one transaction (undefined = not known). */
export interface TransactionFacts {
  listener: string;
  clientIp: string;
  clientPort?: number | undefined;
  helo?: string | undefined;
  tls: boolean;
  tlsVersion?: string | undefined;
  cert?: CertFacts | undefined;
  authUser?: string | undefined;
  /** MAIL FROM ('' = null sender); undefined = the client never sent MAIL (connection only). */
  mailFrom?: string | undefined;
  /** RCPT TO addresses in the order given. */
  rcpts: readonly string[];
  headerFrom?: string | undefined;
  headerFromFields?: number | undefined;
  headerFromAddresses?: readonly string[] | undefined;
  headerFromGroup?: boolean | undefined;
  auth?: AuthSummary | undefined;
  /**
   * Facts for the transport rules beyond the envelope (subject, headers, body, size, the full
   * authentication columns). Without them the conditions that need them are undetermined.
   * `auth` defaults to the summary above (spf, dmarc, spoofSuspect).
   */
  message?: Omit<RuleMessage, 'mailFrom' | 'headerFrom' | 'recipients' | 'clientIp' | 'attribution' | 'now'> | undefined;
  /** ms since the epoch, for rule activation/expiry (required to run rules). */
  now?: number | undefined;
}

/** One stage's verdict; `subject` is what it judged (IP, MAIL FROM, the recipient, header From). */
export interface StageResult {
  stage: Extract<Stage, 'connect' | 'mail' | 'rcpt' | 'eod'>;
  subject: string;
  verdict: Verdict;
}

/** The outcome of the whole transaction. */
export interface TransactionResult {
  stages: StageResult[];
  /**
   * accept / quarantine: the message would be taken (quarantine: into hold, by DMARC or a rule);
   * reject / tempfail: refused (`at` says where; `rule` when a transport rule rejected);
   * incomplete: the facts end before a message (no MAIL, or no recipient given).
   */
  outcome: 'accept' | 'quarantine' | 'reject' | 'tempfail' | 'incomplete';
  at?: StageResult['stage'] | 'rule' | undefined;
  /** The refusing verdict (stage refusals). */
  refusal?: Verdict | undefined;
  /** Recipients accepted at RCPT. */
  accepted: string[];
  /** The transaction's attribution: the last verdict's, as smtp/ records it. */
  attribution: Attribution | undefined;
  /** The transport rules' outcome (undefined when they did not run: no rules, refused earlier, no `now`). */
  rules?: RuleOutcome | undefined;
}

export interface TransactionOptions {
  /** Stage evaluation (default: evaluate()); the replay passes a memoised one. */
  evaluate?: ((stage: Stage, input: PolicyInput) => Verdict) | undefined;
  /** Run the transport rules after end of DATA (default true). */
  rules?: boolean | undefined;
}

const refused = (v: Verdict): boolean => v.action === 'reject' || v.action === 'tempfail';

/** Judge a whole transaction. Pure and synchronous. */
export function evaluateTransaction(f: TransactionFacts, snap: PolicySnapshot, opts: TransactionOptions = {}): TransactionResult {
  const ev = opts.evaluate ?? ((stage: Stage, input: PolicyInput) => evaluateStage(stage, input, snap));
  const base: PolicyInput = { listener: f.listener, clientIp: f.clientIp, clientPort: f.clientPort, helo: f.helo, tls: f.tls, tlsVersion: f.tlsVersion, cert: f.cert, authUser: f.authUser };
  const stages: StageResult[] = [];
  const accepted: string[] = [];
  const stop = (at: StageResult['stage'], v: Verdict): TransactionResult => ({ stages, outcome: v.action === 'tempfail' ? 'tempfail' : 'reject', at, refusal: v, accepted, attribution: v.attribution });
  const c = ev('connect', base);
  stages.push({ stage: 'connect', subject: f.clientIp, verdict: c });
  if (refused(c)) return stop('connect', c);
  if (f.mailFrom === undefined) return { stages, outcome: 'incomplete', accepted, attribution: undefined };
  const withFrom: PolicyInput = { ...base, mailFrom: f.mailFrom };
  const m = ev('mail', { ...withFrom, acceptedRcptCount: 0 });
  stages.push({ stage: 'mail', subject: f.mailFrom || '<>', verdict: m });
  if (refused(m)) return stop('mail', m);
  let attribution = m.attribution;
  if (f.rcpts.length === 0) return { stages, outcome: 'incomplete', accepted, attribution };
  let last: Verdict = m;
  for (const rcpt of f.rcpts) {
    const r = ev('rcpt', { ...withFrom, rcpt, acceptedRcptCount: accepted.length });
    stages.push({ stage: 'rcpt', subject: rcpt, verdict: r });
    last = r;
    if (refused(r)) continue;
    accepted.push(rcpt);
    if (r.attribution) attribution = r.attribution;
  }
  if (accepted.length === 0) return stop('rcpt', last);
  const e = ev('eod', {
    ...withFrom,
    acceptedRcptCount: accepted.length,
    headerFrom: f.headerFrom,
    headerFromFields: f.headerFromFields,
    headerFromAddresses: f.headerFromAddresses,
    headerFromGroup: f.headerFromGroup,
    auth: f.auth,
  });
  stages.push({ stage: 'eod', subject: f.headerFrom ?? '', verdict: e });
  if (refused(e)) return stop('eod', e);
  attribution = e.attribution ?? attribution;
  const result: TransactionResult = { stages, outcome: e.action === 'quarantine' ? 'quarantine' : 'accept', accepted, attribution };
  if (opts.rules === false || f.now === undefined || snap.rules.rules.length === 0) return result;
  const a = f.auth;
  const rules = evaluateSnapshotRules(snap, {
    auth: a ? { spf: a.spf, dmarc: a.dmarc, spoofSuspect: a.spoofSuspect } : undefined,
    ...f.message,
    mailFrom: f.mailFrom,
    headerFrom: f.headerFrom ?? f.mailFrom,
    recipients: accepted,
    clientIp: f.clientIp,
    attribution: attribution ?? { kind: 'anonymous-external' },
    now: f.now,
  });
  result.rules = rules;
  if (rules.effect.reject) return { ...result, outcome: 'reject', at: 'rule' };
  if (rules.effect.quarantine) result.outcome = 'quarantine';
  return result;
}
