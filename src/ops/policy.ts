/**
 * @module ops/policy
 * The policy what-if and the replay as application functions (CLI `policy test` / `policy replay`,
 * API POST /api/v1/policy/test and /replay):
 * - policyTest: one transaction's facts judged by evaluateTransaction (the gateway's stage order,
 *   then the transport rules) under the configuration in force or a candidate. At end of DATA it
 *   brings SPF/DKIM/DMARC as serve does (auth/what-if: live DNS through the gateway's resolver, or
 *   results stated), skipped as in serve for an authenticated user or with authentication off.
 *   No message is given, so header, body and attachment rule conditions are undetermined.
 * - policyReplay: the trace window replayed under the configuration in force and a candidate
 *   (a config, or the one in force with `--set` changes), plus the candidate's transport rules,
 *   over ctx.trace (on a fleet node the fleet's shared trace).
 * Reply lines come from the caller's `replyText` (smtp/replies.ts formatReply; ops/ may not import
 * smtp/).
 * Touches: the config store and trace tables (read only); DNS unless every result is stated.
 */
import { ConfigError, configErrorLines, loadSnapshot, parseConfigText, compilePolicy, type Config } from '../config/index.ts';
import { resolverFromSettings, whatIfAuth } from '../auth/index.ts';
import { evaluateTransaction, type Attribution, type AuthSummary, type PolicySnapshot, type TransactionResult } from '../policy/index.ts';
import type { RuleHit } from '../policy/rules/index.ts';
import type { Report, ReportWindow } from '../trace/reports/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { replayTraceFrom, type ReplyText, type SourceChange } from './policy-replay.ts';
import { applySets } from './replay-set.ts';
import { replayRulesFrom } from './rules-replay.ts';

export type { ReplyText } from './policy-replay.ts';

export const SPF_RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'] as const;
export const DKIM_RESULTS = ['pass', 'fail', 'none', 'temperror', 'permerror'] as const;
export const DMARC_RESULTS = ['pass', 'fail', 'none', 'temperror', 'permerror'] as const;
export const DMARC_POLICIES = ['none', 'quarantine', 'reject'] as const;

export interface PolicyTestInput {
  ip: string;
  helo?: string | undefined;
  from: string;
  to: readonly string[];
  headerFrom?: string | undefined;
  /** As if authenticated as this SMTP AUTH user. */
  auth?: string | undefined;
  certName?: string | undefined;
  certUnverified?: boolean | undefined;
  tls?: boolean | undefined;
  /** Receive connector (default: the first). */
  listener?: string | undefined;
  /** A candidate configuration instead of the version in force. */
  candidate?: Config | undefined;
  spf?: (typeof SPF_RESULTS)[number] | undefined;
  dkim?: (typeof DKIM_RESULTS)[number] | undefined;
  dmarc?: (typeof DMARC_RESULTS)[number] | undefined;
  dmarcPolicy?: (typeof DMARC_POLICIES)[number] | undefined;
}

/** One stage's line of the what-if. */
export interface PolicyTestStage {
  stage: 'connect' | 'mail' | 'rcpt' | 'eod';
  subject: string;
  action: 'continue' | 'reject' | 'tempfail' | 'quarantine';
  attribution: Attribution | undefined;
  /** The reply line of a refusal; '(accepted into quarantine)' for a hold. */
  reply: string;
  reasons: string[];
}

export interface PolicyTestResult {
  listener: string;
  stages: PolicyTestStage[];
  /** SPF/DKIM/DMARC brought at end of DATA ("spf=pass (stated) …"); undefined when serve evaluates none. */
  authentication: string | undefined;
  rules: { hits: RuleHit[]; undetermined: Array<{ rule: string; needs: string }>; reject: { rule: string; reply: string } | undefined };
  verdict: 'ACCEPTED' | 'REJECTED';
  /** The whole transaction as evaluateTransaction judged it. */
  outcome: TransactionResult['outcome'];
}

/** The configuration in force (config + compiled policy); unavailable without one. */
async function inForce(ctx: OpsContext): Promise<{ policy: PolicySnapshot; config: Config }> {
  const s = await loadSnapshot(ctx.store, await ctx.store.currentVersion());
  if (!s) throw new OpsError('unavailable', 'no configuration in force');
  return { policy: s.policy, config: s.config };
}

/** A candidate configuration given as YAML/JSON text (the API's body); refused with the config errors. */
export function parseCandidate(text: string, name = 'candidate'): Config {
  try {
    return parseConfigText(text, name);
  } catch (e) {
    if (e instanceof ConfigError) throw new OpsError('invalid', `${name}: ${configErrorLines(e).join('; ')}`);
    throw e;
  }
}

/** SPF/DKIM/DMARC for the eod stage, as serve brings them; undefined where serve evaluates none. */
async function authFor(o: PolicyTestInput, config: Config): Promise<{ summary: AuthSummary; text: string } | undefined> {
  if (o.auth || !config.authentication.enabled) return undefined;
  const resolver = resolverFromSettings(config.dns);
  const a = await whatIfAuth(
    { clientIp: o.ip, helo: o.helo, mailFrom: o.from, headerFrom: o.headerFrom ?? o.from, mta: config.organization.hostname || 'mailgate', spf: o.spf, dkim: o.dkim, dmarc: o.dmarc, dmarcPolicy: o.dmarcPolicy },
    (name, rrtype) => resolver.resolve(name, rrtype),
  );
  const how = (k: 'spf' | 'dkim' | 'dmarc'): string => (a.stated.includes(k) ? 'stated' : k === 'dkim' ? 'no message: no signature' : 'evaluated');
  const d = a.dmarc;
  const text = `spf=${a.spf.result} (${how('spf')}) dkim=${a.dkim} (${how('dkim')}) dmarc=${d.result}${d.policy ? ` p=${d.policy}` : ''}${d.headerFrom ? ` header.from=${d.headerFrom}` : ''} (${how('dmarc')})`;
  // sample 0: a pct= below 100 is taken as sampled (the gateway samples per message).
  return { summary: { spf: a.spf.result, dmarc: d.result, dmarcPolicy: d.policy, dmarcPct: d.pct, dmarcDomain: d.headerFrom, sample: 0 }, text };
}

/** What serve would decide for these facts: every stage, the rules, the verdict. */
export async function policyTest(ctx: OpsContext, o: PolicyTestInput, replyText: ReplyText, now = Date.now()): Promise<PolicyTestResult> {
  const { policy, config } = o.candidate ? { policy: compilePolicy(o.candidate, 0), config: o.candidate } : await inForce(ctx);
  const listeners = o.candidate ? o.candidate.receiveConnectors.map((l) => l.name) : Object.keys(policy.listeners);
  const listener = o.listener ?? listeners[0] ?? 'mx';
  if (!listeners.includes(listener)) throw new OpsError('invalid', `no receive connector named ${listener} (have: ${listeners.join(', ')})`);
  const base = {
    listener,
    clientIp: o.ip,
    helo: o.helo,
    tls: Boolean(o.tls || o.certName),
    cert: o.certName ? { subjectCN: o.certName, sanDns: [o.certName], verified: !o.certUnverified } : undefined,
    authUser: o.auth,
    mailFrom: o.from,
    rcpts: o.to,
    headerFrom: o.headerFrom,
  };
  // DNS only when the transaction reaches end of DATA (as serve: SPF/DMARC are asked for accepted mail).
  const reaches = evaluateTransaction(base, policy, { rules: false });
  const auth = reaches.stages.some((s) => s.stage === 'eod') ? await authFor(o, config) : undefined;
  const t = evaluateTransaction({ ...base, auth: auth?.summary, now }, policy);
  const stages: PolicyTestStage[] = t.stages.map(({ stage, subject, verdict: v }) => ({
    stage,
    subject,
    action: v.action,
    attribution: v.attribution,
    reply: v.action === 'reject' || v.action === 'tempfail' ? replyText(v.reply, v.vars) : v.action === 'quarantine' ? '(accepted into quarantine)' : '',
    reasons: v.reasons,
  }));
  const r = t.rules;
  const reject = r?.effect.reject;
  return {
    listener,
    stages,
    authentication: auth?.text,
    rules: {
      hits: [...(r?.hits ?? [])],
      undetermined: (r?.undetermined ?? []).map((u) => ({ rule: u.slice(0, u.indexOf(': ')), needs: u.slice(u.indexOf(': ') + 2) })),
      reject: reject ? { rule: reject.rule, reply: replyText('rule-reject', { enhanced: reject.enhanced, text: reject.text }) } : undefined,
    },
    verdict: t.outcome === 'accept' || t.outcome === 'quarantine' ? 'ACCEPTED' : 'REJECTED',
    outcome: t.outcome,
  };
}

export interface PolicyReplayInput {
  /** The window (the adapter resolves `--since` with ops/reports windowOf). */
  window: ReportWindow;
  /** Settings changed in the candidate ("org.rejectDirectSend=true"). */
  set?: readonly string[] | undefined;
  /** The candidate's base (default: the configuration in force). */
  candidate?: Config | undefined;
  samples?: number | undefined;
}

/** Replay the window under the configuration in force and the candidate; what changes. */
export async function policyReplay(ctx: OpsContext, input: PolicyReplayInput, replyText: ReplyText): Promise<Report & { changes: SourceChange[]; replayed: number }> {
  const cur = await inForce(ctx);
  const base: Config = input.candidate ?? structuredClone(cur.config);
  const candidateConfig = applySets(base, input.set ?? []);
  const candidate = compilePolicy(candidateConfig, 0);
  const w = input.window;
  const samples = input.samples ?? 3;
  const report = await replayTraceFrom(ctx.trace, w, cur.policy, candidate, samples, { replyText });
  // The candidate's transport rules over the same window (facts the trace lacks: undetermined).
  if (candidateConfig.transportRules.length > 0) {
    const opts = { since: w.since, until: w.until, limit: 1_000_000 };
    const rules = await replayRulesFrom(ctx.trace, candidateConfig, opts);
    report.summary.push(`transport rules (candidate) over ${rules.messages} accepted messages: ${rules.rows.filter((r) => r.hits > 0).length} rule(s) hit`);
    report.sections.push({ name: 'transport rules (candidate)', columns: ['rule', 'mode', 'state', 'hits', 'undetermined', 'actions', 'needs', 'samples'], rows: rules.rows.map((r) => ({ ...r })) });
  }
  return report;
}
