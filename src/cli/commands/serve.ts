/**
 * @module cli/commands/serve
 * `mailgate serve [--workers N]`: run the gateway in the foreground (logs as JSON lines on stdout).
 * A gateway that cannot start (a listener cannot listen) exits 1 with one line on stderr.
 * Touches: everything (through daemon/).
 */
import type { Command } from 'commander';
import { serve } from '../../daemon/serve.ts';
import { StartupError } from '../../daemon/startup.ts';
import { parsePositiveInt } from '../format.ts';
import { dataDirOf } from '../context.ts';

/** Register `serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the gateway: receive connectors, queue, delivery, trace')
    .option('--workers <n>', 'receive processes (0 = one per core, 1 = single process)', (v) => (v === '0' ? 0 : parsePositiveInt(v)), 0)
    .action(async (opts: { workers: number }, cmd: Command) => {
      try {
        await serve({ data: dataDirOf(cmd), workers: opts.workers });
      } catch (err) {
        if (!(err instanceof StartupError)) throw err;
        // One line, no stack: the admin fixes the port or address and starts again.
        process.stderr.write(`mailgate: ${err.message}\n`);
        process.exit(1);
      }
      // serve() returns once listening; the process lives on its sockets and timers.
      await new Promise<never>(() => undefined);
    });
}
