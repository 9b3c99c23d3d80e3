/**
 * @module cli/commands/policy
 * `mailgate policy test`: what-if, a thin adapter over ops/policy.ts policyTest (evaluateTransaction:
 * the pure `evaluate` that `serve` runs, stage by stage — connect, mail, rcpt for each recipient, eod —
 * then the transport rules) over the config version in force (or a
 * candidate file) and prints the attribution and the verdict with the exact reply. At end of
 * DATA it brings SPF/DKIM/DMARC as serve does (auth/what-if: live DNS through the gateway's own
 * resolver, or results stated with --spf/--dkim/--dmarc/--dmarc-policy), so a DMARC p=reject
 * failure says 5.7.509 here too. Skipped, as in serve, for an authenticated user or with
 * authentication off.
 * Touches: the config store (read only); DNS unless every result is stated.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parseConfigText } from '../../config/index.ts';
import { DKIM_RESULTS as DKIM, DMARC_POLICIES as POLICY, DMARC_RESULTS as DMARC, SPF_RESULTS as SPF, policyTest, type PolicyTestInput } from '../../ops/policy.ts';
import { hitDetail } from '../../smtp/rules-run.ts';
import { formatReply } from '../../smtp/replies.ts';
import { attributionValue } from '../../smtp/headers.ts';
import { withOps } from '../context.ts';
import { enumParser, formatOption, printRows, type OutputFormat } from '../format.ts';

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
      withOps(cmd, async (ctx) => {
        const { file, format: _format, ...facts } = o;
        const input: PolicyTestInput = { ...facts, candidate: file ? parseConfigText(readFileSync(file, 'utf8'), file) : undefined };
        const t = await policyTest(ctx, input, formatReply);
        const rows: Record<string, unknown>[] = t.stages.map((s) => ({
          stage: s.stage,
          subject: s.subject,
          action: s.action,
          attribution: s.attribution ? attributionValue(s.attribution) : '',
          reply: s.reply,
          reasons: s.reasons.join(','),
          ...(s.stage === 'eod' ? { auth: t.authentication ?? '' } : {}),
        }));
        for (const h of t.rules.hits) rows.push({ stage: 'rule', subject: h.rule, action: h.mode === 'Enforce' ? h.applied.join('+') : 'audit', attribution: '', reply: '', reasons: hitDetail(h) });
        for (const u of t.rules.undetermined) rows.push({ stage: 'rule', subject: u.rule, action: 'undetermined', attribution: '', reply: '', reasons: `needs ${u.needs}` });
        const r = t.rules.reject;
        if (r) rows.push({ stage: 'rule', subject: r.rule, action: 'reject', attribution: '', reply: r.reply, reasons: `rule:${r.rule}` });
        const auth = t.authentication;
        const refused = t.verdict === 'REJECTED';
        printRows(rows, ['stage', 'subject', 'action', 'attribution', 'reply', 'reasons', ...(o.format === 'table' ? [] : ['auth'])], o.format);
        if (o.format === 'table') {
          if (auth) process.stdout.write(`\nauthentication: ${auth}`);
          process.stdout.write(`\nverdict: ${refused ? 'REJECTED' : 'ACCEPTED'}\n`);
        }
      }),
    );
}
