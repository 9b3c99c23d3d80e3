/**
 * @module cli/commands/queue
 * `mailgate queue list|show|flush|delete|hold|release` (Postfix's mailq / postsuper / postqueue -f).
 * Changes go through queue/ (states table checked); a running gateway's scheduler polls the
 * queue table, so a flush or release takes effect within its poll interval.
 * Touches: the SQLite queue tables and the spool (delete).
 */
import type { Command } from 'commander';
import { QueueStore, Spool, UnexpectedStateError, deleteQueued, type QueueRow, type QueueState } from '../../queue/index.ts';
import { dataPaths } from '../../daemon/paths.ts';
import { actor, withContext } from '../context.ts';
import { CliError, formatOption, parsePositiveInt, printRecord, printRows, type OutputFormat } from '../format.ts';

const STATES = ['incoming', 'active', 'deferred', 'hold', 'done', 'bounced'] as const;

function rowOut(r: QueueRow): Record<string, unknown> {
  return {
    id: r.id,
    state: r.state,
    received: new Date(r.receivedAt).toISOString(),
    nextAttempt: r.nextAttempt ? new Date(r.nextAttempt).toISOString() : '',
    attempts: r.attempts,
    from: r.mailFrom || '<>',
    size: r.size,
    lastError: r.lastError ?? '',
  };
}

function getRow(store: QueueStore, id: string): QueueRow {
  const r = store.get(id);
  if (!r) throw new CliError(`no queued message ${id}`);
  return r;
}

/** Why `hold` or `release` leaves a message in `state` as it is, in the admin's terms. */
function refusal(verb: 'hold' | 'release', id: string, state: QueueState): string {
  if (verb === 'release') return `${id} is not on hold (it is ${state})`;
  // An attempt in flight ends in a state of its own: hold after it, as `delete` says too.
  if (state === 'active') return `${id} is being delivered right now; hold it again once the attempt ends`;
  if (state === 'hold') return `${id} is already on hold`;
  return `${id} is ${state}: only incoming or deferred mail can be held`;
}

/** Register `queue …`. */
export function registerQueue(program: Command): void {
  const q = program.command('queue').description('inspect and manage the mail queue');
  q.command('list')
    .option('--state <state>', `one of ${STATES.join(', ')}`)
    .option('--all', 'include delivered (done) and bounced messages')
    .option('--limit <n>', 'rows', parsePositiveInt, 1000)
    .addOption(formatOption())
    .action(async (o: { state?: string; all?: boolean; limit: number; format: OutputFormat }, cmd: Command) =>
      withContext(cmd, (ctx) => {
        if (o.state && !(STATES as readonly string[]).includes(o.state)) throw new CliError(`unknown state ${o.state}`);
        const store = new QueueStore(ctx.db);
        const open = (r: QueueRow): boolean => o.all === true || o.state !== undefined || (r.state !== 'done' && r.state !== 'bounced');
        const rows = store.list({ state: o.state as QueueRow['state'] | undefined, limit: o.limit }).filter(open).map(rowOut);
        printRows(rows, ['id', 'state', 'received', 'nextAttempt', 'attempts', 'from', 'size', 'lastError'], o.format);
      }),
    );
  q.command('show <id>')
    .addOption(formatOption())
    .action(async (id: string, o: { format: OutputFormat }, cmd: Command) =>
      withContext(cmd, (ctx) => {
        const store = new QueueStore(ctx.db);
        const r = getRow(store, id);
        const rcpts = store.recipients(id).map((x) => `${x.rcpt} ${x.status}${x.lastReply ? ' (' + x.lastReply + ')' : ''}`);
        printRecord({ ...rowOut(r), recipients: rcpts.join('; ') }, o.format);
      }),
    );
  q.command('flush')
    .description('make every deferred message due now')
    .action(async (_o: unknown, cmd: Command) =>
      withContext(cmd, (ctx) => {
        const n = new QueueStore(ctx.db).flushDeferred(Date.now());
        process.stdout.write(`${n} deferred message(s) due now\n`);
      }),
    );
  // Each verb acts only on the states it is meant for, checked in the transaction that changes
  // the state: release takes held mail only (active → incoming is the crash recovery's transition:
  // on a message mid-attempt it would let the scheduler start a second attempt beside the first).
  for (const [verb, to, from, help] of [
    ['hold', 'hold', ['incoming', 'deferred'], 'put a message on hold (no delivery until released)'],
    ['release', 'incoming', ['hold'], 'release a held message for delivery'],
  ] as const) {
    q.command(`${verb} <id...>`)
      .description(help)
      .action(async (ids: string[], _o: unknown, cmd: Command) =>
        withContext(cmd, (ctx) => {
          const store = new QueueStore(ctx.db);
          for (const id of ids) {
            getRow(store, id);
            try {
              // An admin's hold is a quarantine with a reason naming the admin (queue/quarantine-reason.ts).
              if (to === 'hold') store.holdWithReason(id, { kind: 'admin', text: `held by ${actor()}` }, { from });
              else store.setState(id, to, { from });
            } catch (e) {
              if (e instanceof UnexpectedStateError) throw new CliError(refusal(verb, id, e.state));
              throw new CliError(`${id}: ${(e as Error).message}`);
            }
            process.stdout.write(`${id}: ${to === 'hold' ? 'held' : 'released'}\n`);
          }
        }),
      );
  }
  q.command('delete <id...>')
    .description('delete messages from the queue (no bounce is sent)')
    .action(async (ids: string[], _o: unknown, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const store = new QueueStore(ctx.db);
        const spool = new Spool(dataPaths(ctx.dataDir).spool);
        for (const id of ids) {
          const r = getRow(store, id);
          if (r.state === 'active') throw new CliError(`${id} is being delivered right now; hold it first or retry`);
          // Park it on hold first, in one transaction with the state check, so the scheduler cannot
          // claim it between the check and the unlink (a held message is never claimed).
          if (r.state === 'incoming' || r.state === 'deferred') {
            try {
              store.setState(id, 'hold', { lastError: 'being deleted by an admin', from: ['incoming', 'deferred'] });
            } catch (e) {
              // Claimed (or changed by another admin) since the look above.
              if (e instanceof UnexpectedStateError) {
                throw new CliError(e.state === 'active' ? `${id} is being delivered right now; hold it first or retry` : `${id} is ${e.state} now; try again`);
              }
              throw new CliError(`${id}: ${(e as Error).message}`);
            }
          }
          // Then the row (a tombstone in its place), then the file: recovery and the orphan scan
          // never bring back a tombstoned id (queue/delete.ts).
          await deleteQueued(store, spool, id, ['hold', 'done', 'bounced']);
          process.stdout.write(`${id}: deleted\n`);
        }
      }),
    );
}
