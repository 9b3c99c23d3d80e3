/**
 * @module cli/commands/report-egress
 * `mailgate report egress-gone --block-date DATE [--since 30d] [--source …] [--all]`: after the
 * egress block, the sources that stopped sending (they were sending straight out), the ones
 * Exchange Online still sees sending Direct Send, and (with --all) the rest.
 * Touches: the trace tables and config store (read only).
 */
import type { Command } from 'commander';
import { ensureTraceSchema } from '../../trace/index.ts';
import { egressGoneReport } from '../../trace/reports/index.ts';
import { withContext, type CliIo } from '../context.ts';
import { formatOption, UsageError, type OutputFormat } from '../format.ts';
import { printReport, windowFor } from './report.ts';

function parseBlockDate(v: string): number {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw new UsageError(`--block-date must be a date (YYYY-MM-DD, UTC) or an ISO time, got "${v}"`);
  return t;
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
    .requiredOption('--block-date <date>', 'when the block was applied (YYYY-MM-DD UTC, or an ISO time)', parseBlockDate)
    .option('--since <window>', 'window around the block date, e.g. 30d, 60d or an ISO date', '30d')
    .option('--source <source>', 'gateway or import:NAME (default: every source)')
    .option('--all', 'also list the sources still sending through an allowed path and the new ones')
    .addOption(formatOption())
    .action(async (o: Opts, cmd: Command) =>
      withContext(cmd, (ctx) => {
        if (o.source !== undefined && o.source !== 'gateway' && !/^import:.+/.test(o.source)) throw new UsageError(`--source must be gateway or import:NAME, not "${o.source}"`);
        ensureTraceSchema(ctx.db);
        const w = windowFor(ctx, o.since, io);
        try {
          printReport(egressGoneReport(ctx.db, w, { blockAt: o.blockDate, all: o.all, source: o.source }), o.format, io);
        } catch (e) {
          if (e instanceof RangeError) throw new UsageError(e.message);
          throw e;
        }
      }),
    );
}
