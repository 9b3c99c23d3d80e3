/**
 * @module cli/commands/policy
 * `mailgate policy test`: what-if. Runs the same pure `evaluate` that `serve` runs, stage by
 * stage (connect, mail, rcpt for each recipient, eod), over the config version in force (or a
 * candidate file) and prints the attribution and the verdict with the exact reply.
 * Touches: the config store (read only).
 */
import type { Command } from 'commander';
import { loadSnapshot, parseConfigText, compilePolicy } from '../../config/index.ts';
import { evaluate } from '../../policy/index.ts';
import type { PolicyInput, PolicySnapshot, Stage, Verdict } from '../../policy/types.ts';
import { formatReply } from '../../smtp/replies.ts';
import { attributionValue } from '../../smtp/headers.ts';
import { readFileSync } from 'node:fs';
import { withContext } from '../context.ts';
import { CliError, formatOption, printRows, type OutputFormat } from '../format.ts';

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
  format: OutputFormat;
}

function snapshotFor(o: TestOpts, current: () => PolicySnapshot): { policy: PolicySnapshot; listener: string; listeners: string[] } {
  if (o.file) {
    const cfg = parseConfigText(readFileSync(o.file, 'utf8'), o.file);
    return { policy: compilePolicy(cfg, 0), listener: o.listener ?? cfg.receiveConnectors[0]?.name ?? 'mx', listeners: cfg.receiveConnectors.map((l) => l.name) };
  }
  const p = current();
  const names = Object.keys(p.listeners);
  return { policy: p, listener: o.listener ?? names[0] ?? 'mx', listeners: names };
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
    .addOption(formatOption())
    .action(async (o: TestOpts, cmd: Command) =>
      withContext(cmd, (ctx) => {
        const { policy, listener, listeners } = snapshotFor(o, () => {
          const s = loadSnapshot(ctx.store, ctx.store.currentVersion());
          if (!s) throw new CliError('no configuration in force');
          return s.policy;
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
        if (!refused) {
          for (const to of o.to) {
            const r = evaluate('rcpt', { ...base, mailFrom: o.from, rcpt: to, acceptedRcptCount: accepted }, policy);
            rows.push(row('rcpt', to, r));
            if (!stop(r)) accepted++;
          }
          if (accepted > 0) {
            const e = evaluate('eod', { ...base, mailFrom: o.from, acceptedRcptCount: accepted, headerFrom: o.headerFrom }, policy);
            rows.push(row('eod', o.headerFrom ?? '', e));
            refused = stop(e);
          } else refused = true;
        }
        printRows(rows, ['stage', 'subject', 'action', 'attribution', 'reply', 'reasons'], o.format);
        if (o.format === 'table') process.stdout.write(`\nverdict: ${refused ? 'REJECTED' : 'ACCEPTED'}\n`);
      }),
    );
}
