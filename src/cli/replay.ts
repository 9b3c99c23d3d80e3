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
import { parseConfigText } from '../config/index.ts';
import { current } from '../ops/model.ts';
import { policyReplay } from '../ops/policy.ts';
import { formatReply } from '../smtp/replies.ts';
import type { Report, ReportWindow } from '../trace/reports/index.ts';
import { printReport, windowFor } from './commands/report.ts';
import { defaultIo, withOps, type CliIo } from './context.ts';
import { formatOption, type OutputFormat } from './format.ts';
import { applySets } from './replay-set.ts';

export { VerdictCache, replayTransaction, type ReplayOutcome } from '../ops/policy-replay.ts';

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
      withOps(cmd, async (ctx) => {
        const candidate = o.file ? parseConfigText(readFileSync(o.file, 'utf8'), o.file) : undefined;
        // A bad --set is a usage error (exit 2), checked before the window is read.
        if (o.set?.length) applySets(candidate ?? (await current(ctx)), o.set);
        const report = await policyReplay(ctx, { window: await windowFor(ctx, o.since, io), set: o.set, candidate }, formatReply);
        printReport(report, o.format, io);
      }),
    );
}
