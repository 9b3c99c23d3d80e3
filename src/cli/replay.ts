/**
 * @module cli/replay
 * `mailgate policy replay --since 30d --set org.rejectDirectSend=true [--set …] [-f candidate.yaml]`:
 * "what would enforcement block" over recorded traffic — a thin adapter over ops/policy.ts
 * policyReplay (the engine, memoised, is ops/policy-replay.ts: every traced transaction's facts
 * through evaluateTransaction under the configuration in force and the candidate). Prints what
 * changes per source and per attribution, and the candidate's transport rules over the window.
 * Touches: the trace tables and config store (read only, through ops/); a candidate file if given.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseConfigText, type Config } from '../config/index.ts';
import type { Db } from '../core/sqlite.ts';
import { policyReplay } from '../ops/policy.ts';
import { replayTrace as replayTraceWith, type SourceChange } from '../ops/policy-replay.ts';
import type { PolicySnapshot } from '../policy/types.ts';
import { formatReply } from '../smtp/replies.ts';
import type { Report, ReportWindow } from '../trace/reports/index.ts';
import { printReport, windowFor } from './commands/report.ts';
import { defaultIo, withContext, type CliContext, type CliIo } from './context.ts';
import { CliError, formatOption, type OutputFormat } from './format.ts';
import { opsOf } from './ops-context.ts';
import { applySets } from './replay-set.ts';

export { VerdictCache, replayTransaction, type ReplayOutcome } from '../ops/policy-replay.ts';

/** The replay engine with the gateway's reply lines (tests and bench/ call it directly). */
export function replayTrace(db: Db, window: ReportWindow, current: PolicySnapshot, candidate: PolicySnapshot, samples = 3, opts: { memo?: boolean } = {}): Report & { changes: SourceChange[]; replayed: number } {
  return replayTraceWith(db, window, current, candidate, samples, { ...opts, replyText: formatReply });
}

/** The configuration in force (the base of --set), or the CLI's error without one. */
async function currentConfig(ctx: CliContext): Promise<Config> {
  const v = await ctx.store.current();
  if (!v) throw new CliError('no configuration in force');
  return v.config;
}

interface ReplayOpts {
  since: string;
  set?: string[];
  file?: string;
  format: OutputFormat;
}

/** Register `replay` under the `policy` command. */
export function registerPolicyReplay(policy: Command, io: CliIo = defaultIo()): void {
  policy
    .command('replay')
    .description('re-run the policy over recorded traffic under a candidate config and show what would change')
    .option('--since <window>', 'e.g. 7d, 30d or an ISO date', '30d')
    .option('--set <path=value>', 'change a setting of the candidate (repeatable): org.rejectDirectSend=true, inboundConnectors=[…]', (v: string, prev: string[] = []) => [...prev, v])
    .option('-f, --file <yaml>', 'candidate config file (default: the version in force)')
    .addOption(formatOption())
    .action(async (o: ReplayOpts, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const candidate = o.file ? parseConfigText(readFileSync(o.file, 'utf8'), o.file) : undefined;
        // A bad --set is a usage error (exit 2), checked before the window is read.
        if (o.set?.length) applySets(candidate ?? (await currentConfig(ctx)), o.set);
        const report = await policyReplay(opsOf(ctx), { window: await windowFor(ctx, o.since, io), set: o.set, candidate }, formatReply);
        printReport(report, o.format, io);
      }),
    );
}
