/**
 * @module cli/commands/report-egress
 * `mailgate report egress-gone --block-date DATE [--since 30d] [--source …] [--all]`: after the
 * egress block, the sources that stopped sending (they were sending straight out), the ones
 * Exchange Online still sees sending Direct Send, and (with --all) the rest. The CLI's face of
 * ops/reports' egressGone; this file only formats.
 * Touches: nothing itself (ops/reports reads the trace and configuration).
 */
import type { Command } from 'commander';
import { egressGone, parseBlockDate } from '../../ops/reports.ts';
import { withOps, type CliIo } from '../context.ts';
import { formatOption, type OutputFormat } from '../format.ts';
import { flagsChecked, usageOf } from '../ops-context.ts';
import { printReport } from './report.ts';

function blockDateFlag(v: string): number {
  try {
    return parseBlockDate(v);
  } catch (e) {
    throw usageOf(e);
  }
}

interface Opts {
  since: string;
  blockDate: number;
  source?: string;
  all?: boolean;
  format: OutputFormat;
}

/** Register `report egress-gone` under `report`. */
export function registerEgressGone(report: Command, io: CliIo): void {
  report
    .command('egress-gone')
    .description('after the egress block: sources that stopped sending (they were sending straight out), and any still sending Direct Send')
    .requiredOption('--block-date <date>', 'when the block was applied (YYYY-MM-DD UTC, or an ISO time)', blockDateFlag)
    .option('--since <window>', 'window around the block date, e.g. 30d, 60d or an ISO date', '30d')
    .option('--source <source>', 'gateway or import:NAME (default: every source)')
    .option('--all', 'also list the sources still sending through an allowed path and the new ones')
    .addOption(formatOption())
    .action(async (o: Opts, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const r = await flagsChecked(() => egressGone(ctx, { blockAt: o.blockDate, since: o.since, source: o.source, all: o.all }));
        if (r.window.note) io.err.write(`note: ${r.window.note}\n`);
        printReport(r, o.format, io);
      }),
    );
}
