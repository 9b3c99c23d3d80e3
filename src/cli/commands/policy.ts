/**
 * @module cli/commands/policy
 * `mailgate policy test`: what-if. Runs the same pure `evaluate` that `serve` runs, stage by
 * stage (connect, mail, rcpt for each recipient, eod), over the config version in force (or a
 * candidate file) and prints the attribution and the verdict with the exact reply. At end of
 * DATA it brings SPF/DKIM/DMARC as serve does (auth/what-if: live DNS through the gateway's own
 * resolver, or results stated with --spf/--dkim/--dmarc/--dmarc-policy), so a DMARC p=reject
 * failure says 5.7.509 here too. Skipped, as in serve, for an authenticated user or with
 * authentication off.
 * Touches: the config store (read only); DNS unless every result is stated.
 */
import type { Command } from 'commander';
import { loadSnapshot, parseConfigText, compilePolicy } from '../../config/index.ts';
import { evaluate } from '../../policy/index.ts';
import { evaluateSnapshotRules } from '../../policy/rules/index.ts';
import { hitDetail } from '../../smtp/rules-run.ts';
import type { AuthSummary, PolicyInput, PolicySnapshot, Stage, Verdict } from '../../policy/types.ts';
import { resolverFromSettings, whatIfAuth } from '../../auth/index.ts';
import type { Config } from '../../config/index.ts';
import { formatReply } from '../../smtp/replies.ts';
import { attributionValue } from '../../smtp/headers.ts';
import { readFileSync } from 'node:fs';
import { withContext } from '../context.ts';
import { CliError, enumParser, formatOption, printRows, type OutputFormat } from '../format.ts';

const SPF = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'] as const;
const DKIM = ['pass', 'fail', 'none', 'temperror', 'permerror'] as const;
const DMARC = ['pass', 'fail', 'none', 'temperror', 'permerror'] as const;
const POLICY = ['none', 'quarantine', 'reject'] as const;

interface TestOpts {
  ip: string;
  helo?: string;
  from: string;
  to: string[];
  headerFrom?: string;
  auth?: string;
  certName?: string;
  certUnverified?: boolean;
  tls?: boolean;
  listener?: string;
  file?: string;
  spf?: (typeof SPF)[number];
  dkim?: (typeof DKIM)[number];
  dmarc?: (typeof DMARC)[number];
  dmarcPolicy?: (typeof POLICY)[number];
  format: OutputFormat;
}

function snapshotFor(o: TestOpts, current: () => { policy: PolicySnapshot; config: Config }): { policy: PolicySnapshot; config: Config; listener: string; listeners: string[] } {
  if (o.file) {
    const cfg = parseConfigText(readFileSync(o.file, 'utf8'), o.file);
    return { policy: compilePolicy(cfg, 0), config: cfg, listener: o.listener ?? cfg.receiveConnectors[0]?.name ?? 'mx', listeners: cfg.receiveConnectors.map((l) => l.name) };
  }
  const p = current();
  const names = Object.keys(p.policy.listeners);
  return { ...p, listener: o.listener ?? names[0] ?? 'mx', listeners: names };
}

/** SPF/DKIM/DMARC for the eod stage, as serve brings them; undefined where serve evaluates none. */
async function authFor(o: TestOpts, config: Config): Promise<{ summary: AuthSummary; text: string } | undefined> {
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

function row(stage: Stage, subject: string, v: Verdict): Record<string, unknown> {
  return {
    stage,
    subject,
    action: v.action,
    attribution: v.attribution ? attributionValue(v.attribution) : '',
    reply: v.action === 'reject' || v.action === 'tempfail' ? formatReply(v.reply, v.vars) : v.action === 'quarantine' ? '(accepted into quarantine)' : '',
    reasons: v.reasons.join(','),
  };
}

/**
 * The transport rules at end of DATA (one row per hit or undetermined rule); true when a rule
 * rejects. No message is given, so header, body and attachment conditions are undetermined.
 */
function ruleRows(policy: PolicySnapshot, o: TestOpts, e: Verdict, auth: AuthSummary | undefined, rows: Record<string, unknown>[]): boolean {
  if (policy.rules.rules.length === 0) return false;
  const out = evaluateSnapshotRules(policy, {
    mailFrom: o.from,
    headerFrom: o.headerFrom ?? o.from,
    recipients: o.to,
    clientIp: o.ip,
    attribution: e.attribution ?? { kind: 'anonymous-external' },
    auth: auth ? { spf: auth.spf, dmarc: auth.dmarc, spoofSuspect: auth.spoofSuspect } : undefined,
    now: Date.now(),
  });
  for (const h of out.hits) rows.push({ stage: 'rule', subject: h.rule, action: h.mode === 'Enforce' ? h.applied.join('+') : 'audit', attribution: '', reply: '', reasons: hitDetail(h) });
  for (const u of out.undetermined) rows.push({ stage: 'rule', subject: u.slice(0, u.indexOf(': ')), action: 'undetermined', attribution: '', reply: '', reasons: `needs ${u.slice(u.indexOf(': ') + 2)}` });
  const r = out.effect.reject;
  if (r) rows.push({ stage: 'rule', subject: r.rule, action: 'reject', attribution: '', reply: formatReply('rule-reject', { enhanced: r.enhanced, text: r.text }), reasons: `rule:${r.rule}` });
  return r !== undefined;
}

/** Register `policy test`. */
export function registerPolicy(program: Command): void {
  const p = program.command('policy').description('what the policy decides');
  p.command('test')
    .description('print the attribution and verdict serve would give (same pure function)')
    .requiredOption('--ip <ip>', 'client IP')
    .option('--helo <name>', 'HELO/EHLO name')
    .requiredOption('--from <addr>', 'MAIL FROM ("" for the null sender)')
    .requiredOption('--to <addr...>', 'RCPT TO addresses')
    .option('--header-from <addr>', 'header From (checked at end of DATA)')
    .option('--auth <user>', 'as if authenticated as this SMTP AUTH user')
    .option('--cert-name <name>', 'as if a verified client certificate with this CN was presented')
    .option('--cert-unverified', 'the certificate did not verify')
    .option('--tls', 'as if the session used TLS (implied by --cert-name)')
    .option('--listener <name>', 'receive connector (default: the first)')
    .option('-f, --file <yaml>', 'evaluate against a candidate config file instead of the version in force')
    .option('--spf <result>', `state the SPF result instead of evaluating it (${SPF.join('|')})`, enumParser('--spf', SPF))
    .option('--dkim <result>', `state the DKIM result (${DKIM.join('|')}; pass = aligned with the header From; default none: no message, no signature)`, enumParser('--dkim', DKIM))
    .option('--dmarc <result>', `state the DMARC result instead of evaluating it (${DMARC.join('|')})`, enumParser('--dmarc', DMARC))
    .option('--dmarc-policy <p>', `with --dmarc: the policy that applies (${POLICY.join('|')}; default: the domain's live record)`, enumParser('--dmarc-policy', POLICY))
    .addOption(formatOption())
    .action(async (o: TestOpts, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { policy, config, listener, listeners } = snapshotFor(o, () => {
          const s = loadSnapshot(ctx.store, ctx.store.currentVersion());
          if (!s) throw new CliError('no configuration in force');
          return { policy: s.policy, config: s.config };
        });
        if (!listeners.includes(listener)) throw new CliError(`no receive connector named ${listener} (have: ${listeners.join(', ')})`);
        const base: PolicyInput = {
          listener,
          clientIp: o.ip,
          helo: o.helo,
          tls: Boolean(o.tls || o.certName),
          cert: o.certName ? { subjectCN: o.certName, sanDns: [o.certName], verified: !o.certUnverified } : undefined,
          authUser: o.auth,
        };
        const rows: Record<string, unknown>[] = [];
        const stop = (v: Verdict): boolean => v.action === 'reject' || v.action === 'tempfail';
        const c = evaluate('connect', base, policy);
        rows.push(row('connect', o.ip, c));
        let refused = stop(c);
        if (!refused) {
          const m = evaluate('mail', { ...base, mailFrom: o.from }, policy);
          rows.push(row('mail', o.from || '<>', m));
          refused = stop(m);
        }
        let accepted = 0;
        let auth: Awaited<ReturnType<typeof authFor>>;
        if (!refused) {
          for (const to of o.to) {
            const r = evaluate('rcpt', { ...base, mailFrom: o.from, rcpt: to, acceptedRcptCount: accepted }, policy);
            rows.push(row('rcpt', to, r));
            if (!stop(r)) accepted++;
          }
          if (accepted > 0) {
            auth = await authFor(o, config);
            const e = evaluate('eod', { ...base, mailFrom: o.from, acceptedRcptCount: accepted, headerFrom: o.headerFrom, auth: auth?.summary }, policy);
            rows.push({ ...row('eod', o.headerFrom ?? '', e), auth: auth?.text ?? '' });
            refused = stop(e);
            if (!refused) refused = ruleRows(policy, { ...o, to: o.to.slice(0, accepted) }, e, auth?.summary, rows);
          } else refused = true;
        }
        printRows(rows, ['stage', 'subject', 'action', 'attribution', 'reply', 'reasons', ...(o.format === 'table' ? [] : ['auth'])], o.format);
        if (o.format === 'table') {
          if (auth) process.stdout.write(`\nauthentication: ${auth.text}`);
          process.stdout.write(`\nverdict: ${refused ? 'REJECTED' : 'ACCEPTED'}\n`);
        }
      }),
    );
}
