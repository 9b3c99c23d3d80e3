/**
 * @module cli/commands/queue
 * `mailgate queue list|show|flush|delete|hold|release` (Postfix's mailq / postsuper / postqueue -f):
 * the CLI's face of ops/queue (which holds the state rules); this file only formats.
 * Touches: nothing itself (ops/queue: the queue tables and the spool).
 */
import type { Command } from 'commander';
import { deleteMessage, flushQueue, holdMessage, listQueue, QUEUE_STATES, releaseMessage, showQueued, type QueueEntry } from '../../ops/queue.ts';
import type { QueueState } from '../../queue/index.ts';
import { withOps } from '../context.ts';
import { formatOption, parsePositiveInt, printRecord, printRows, type OutputFormat } from '../format.ts';

function rowOut(r: QueueEntry): Record<string, unknown> {
  return { ...r, nextAttempt: r.nextAttempt ?? '', lastError: r.lastError ?? '' };
}

/** Register `queue …`. */
export function registerQueue(program: Command): void {
  const q = program.command('queue').description('inspect and manage the mail queue');
  q.command('list')
    .option('--state <state>', `one of ${QUEUE_STATES.join(', ')}`)
    .option('--all', 'include delivered (done) and bounced messages')
    .option('--limit <n>', 'rows', parsePositiveInt, 1000)
    .addOption(formatOption())
    .action(async (o: { state?: string; all?: boolean; limit: number; format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const rows = (await listQueue(ctx, { state: o.state as QueueState | undefined, all: o.all, limit: o.limit })).map(rowOut);
        printRows(rows, ['id', 'state', 'received', 'nextAttempt', 'attempts', 'from', 'size', 'lastError'], o.format);
      }),
    );
  q.command('show <id>')
    .addOption(formatOption())
    .action(async (id: string, o: { format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const { recipients, ...entry } = await showQueued(ctx, id);
        const rcpts = recipients.map((x) => `${x.rcpt} ${x.status}${x.lastReply ? ' (' + x.lastReply + ')' : ''}`);
        printRecord({ ...rowOut(entry), recipients: rcpts.join('; ') }, o.format);
      }),
    );
  q.command('flush')
    .description('make every deferred message due now')
    .action(async (_o: unknown, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const n = await flushQueue(ctx);
        process.stdout.write(`${n} deferred message(s) due now\n`);
      }),
    );
  for (const [verb, act, done, help] of [
    ['hold', holdMessage, 'held', 'put a message on hold (no delivery until released)'],
    ['release', releaseMessage, 'released', 'release a held message for delivery'],
  ] as const) {
    q.command(`${verb} <id...>`)
      .description(help)
      .action(async (ids: string[], _o: unknown, cmd: Command) =>
        withOps(cmd, async (ctx) => {
          for (const id of ids) {
            await act(ctx, id);
            process.stdout.write(`${id}: ${done}\n`);
          }
        }),
      );
  }
  q.command('delete <id...>')
    .description('delete messages from the queue (no bounce is sent)')
    .action(async (ids: string[], _o: unknown, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        for (const id of ids) {
          await deleteMessage(ctx, id);
          process.stdout.write(`${id}: deleted\n`);
        }
      }),
    );
}
