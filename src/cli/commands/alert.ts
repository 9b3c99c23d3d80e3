/**
 * @module cli/commands/alert
 * `mailgate alert list [--state open|acked|all] [--format …]`, `mailgate alert ack ID` and
 * `mailgate alert test-webhook`: thin adapters over ops/alerts.ts. Alert summaries carry values
 * from outside (IPs, senders, domains): printed through the table/CSV/JSON formatters, which
 * escape them.
 * Touches: the data directory's store (through ops/).
 */
import type { Command } from 'commander';
import { ackAlert, listAlerts, testWebhooks } from '../../ops/alerts.ts';
import { defaultIo, withOps, type CliIo } from '../context.ts';
import { CliError, enumParser, formatOption, parsePositiveInt, printRecord, printRows, terminalSafe, type OutputFormat } from '../format.ts';

const COLUMNS = ['id', 'kind', 'state', 'count', 'firstSeen', 'lastSeen', 'summary', 'ackedBy'];

export function registerAlert(program: Command, io: CliIo = defaultIo()): void {
  const alert = program.command('alert').description('alerts raised by the gateway (new Direct Send sources, connector drift, queue, certificates, …)');
  alert
    .command('list')
    .description('list alerts, newest first')
    .addOption(formatOption())
    .option('--state <state>', 'open, acked or all', enumParser('--state', ['open', 'acked', 'all'] as const), 'open')
    .option('--limit <n>', 'at most this many', parsePositiveInt, 1000)
    .action(async (opts: { format: OutputFormat; state: 'open' | 'acked' | 'all'; limit: number }, cmd: Command) => {
      const rows = await withOps(cmd, (ctx) => listAlerts(ctx, { state: opts.state, limit: opts.limit }));
      if (opts.format === 'json') io.out.write(JSON.stringify(rows, null, 2) + '\n');
      else printRows(rows as unknown as Record<string, unknown>[], COLUMNS, opts.format, io.out);
    });
  alert
    .command('ack')
    .description('acknowledge an open alert (it is found again as a new alert if it recurs)')
    .argument('<id>', 'alert id', parsePositiveInt)
    .addOption(formatOption())
    .action(async (id: number, opts: { format: OutputFormat }, cmd: Command) => {
      const a = await withOps(cmd, (ctx) => ackAlert(ctx, id));
      if (opts.format === 'table') io.out.write(`alert ${a.id} acknowledged by ${terminalSafe(a.ackedBy ?? '')}: ${terminalSafe(a.summary)}\n`);
      else printRecord(a as unknown as Record<string, unknown>, opts.format, io.out);
    });
  alert
    .command('test-webhook')
    .description('send a signed test alert to every configured webhook (alerts.webhooks)')
    .action(async (_opts: unknown, cmd: Command) => {
      const results = await withOps(cmd, (ctx) => testWebhooks(ctx));
      for (const r of results) io.out.write(`${terminalSafe(r.url)}: ${r.ok ? 'delivered' : 'FAILED'} (${terminalSafe(r.last)})\n`);
      if (results.some((r) => !r.ok)) throw new CliError('a webhook did not take the test alert');
    });
}
