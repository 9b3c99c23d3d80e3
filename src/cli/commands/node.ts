/**
 * @module cli/commands/node
 * `mailgate node list`: the fleet's nodes from their heartbeats (name, state, release, the
 * configuration version in force and how far behind it is, queue depth, last seen), as table,
 * CSV or JSON. On a single SQLite node it shows that node once it has run.
 * Touches: nothing itself (ops/nodes reads the store).
 */
import type { Command } from 'commander';
import { listNodes } from '../../ops/nodes.ts';
import { defaultIo, withOps, type CliIo } from '../context.ts';
import { formatOption, printRows, type OutputFormat } from '../format.ts';

const COLUMNS = ['name', 'state', 'softwareVersion', 'configVersion', 'configLag', 'queueDepth', 'lastSeen', 'ageSeconds'];

/** Register `node list`. */
export function registerNode(program: Command, io: CliIo = defaultIo()): void {
  const node = program.command('node').description('the fleet: nodes sharing this configuration store');
  node
    .command('list')
    .description('every node that reported: configuration version in force, queue depth, last heartbeat')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const rows = await listNodes(ctx);
        if (opts.format === 'json') io.out.write(JSON.stringify(rows, null, 2) + '\n');
        else printRows(rows as unknown as Record<string, unknown>[], COLUMNS, opts.format, io.out);
      });
    });
}
