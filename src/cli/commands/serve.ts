/**
 * @module cli/commands/serve
 * `mailgate serve [--workers N] [--node NAME] [--listen NAME=HOST:PORT …]`: run the gateway in the foreground (logs as JSON lines on stdout).
 * A gateway that cannot start (a listener cannot listen) exits 1 with one line on stderr.
 * Touches: everything (through daemon/).
 */
import type { Command } from 'commander';
import { serve } from '../../daemon/serve.ts';
import { StartupError } from '../../daemon/startup.ts';
import { parsePositiveInt, UsageError } from '../format.ts';
import type { ListenOverride } from '../../config/index.ts';
import { parseListen } from '../../daemon/node-overrides.ts';
import { dataDirOf } from '../context.ts';

function collectListen(spec: string, prev: ListenOverride[]): ListenOverride[] {
  try {
    return [...prev, parseListen(spec)];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function parseNodeName(v: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v)) throw new UsageError(`--node ${JSON.stringify(v)}: letters, digits, . _ - (at most 63)`);
  return v;
}

/** Register `serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the gateway: receive connectors, queue, delivery, trace')
    .option('--workers <n>', 'receive processes (0 = one per core, 1 = single process)', (v) => (v === '0' ? 0 : parsePositiveInt(v)), 0)
    .option('--node <name>', 'this node\'s name in a fleet (default: the host name)', parseNodeName)
    .option('--listen <NAME=HOST:PORT>', 'on this node, listen for receive connector NAME (or admin) on HOST:PORT; repeatable', collectListen, [])
    .action(async (opts: { workers: number; node?: string; listen: ListenOverride[] }, cmd: Command) => {
      try {
        await serve({ data: dataDirOf(cmd), workers: opts.workers, node: opts.node, listen: opts.listen });
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
