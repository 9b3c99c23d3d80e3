/**
 * @module cli/commands/quarantine
 * `mailgate quarantine list|show|release|delete|export|hold|requests|approve|deny` (Exchange Online's Get-QuarantineMessage,
 * Preview-/Release-/Delete-/Export-QuarantineMessage): a thin adapter over ops/quarantine.ts.
 * Listings come as table, CSV or JSON; every string from a message is escaped for the terminal
 * (and for CSV by printRows); `show` never renders or runs anything of the message.
 * Touches: through ops/: the queue tables, the spool, the trace; `export --out` writes one file.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { deleteQuarantine, exportQuarantine, holdMessage, listQuarantine, releaseQuarantine, showQuarantine, type QuarantineItem } from '../../ops/quarantine.ts';
import { approveRequest, denyRequest, listRequests } from '../../ops/quarantine-requests.ts';
import { parseSince } from '../../trace/index.ts';
import { withOps } from '../context.ts';
import { enumParser, formatOption, parsePositiveInt, printRecord, printRows, terminalSafe, UsageError, type OutputFormat } from '../format.ts';

const KINDS = ['rule', 'dmarc', 'admin', 'malware'] as const;
const COLUMNS = ['id', 'received', 'expires', 'reason', 'from', 'headerFrom', 'subject', 'recipients', 'attribution', 'dmarc'];


function rowOut(q: QuarantineItem): Record<string, unknown> {
  return {
    id: q.id,
    received: new Date(q.receivedAt).toISOString(),
    expires: new Date(q.expiresAt).toISOString(),
    reason: q.reason.text,
    kind: q.reason.kind,
    rule: q.reason.rule ?? '',
    from: q.mailFrom || '<>',
    headerFrom: q.headerFrom,
    subject: q.subject,
    recipients: q.recipients.join(', '),
    attribution: q.attribution,
    spf: q.auth.spf,
    dkim: q.auth.dkim,
    dmarc: q.auth.dmarc,
    compauth: q.auth.compauth,
    size: q.size,
  };
}

/** A block of untrusted text for the terminal: escaped, indented, bounded by the caller. */
const block = (title: string, text: string): string => `${title}:\n${terminalSafe(text).replace(/\r\n?/g, '\n').replace(/^/gm, '  ')}\n`;

/** Register `quarantine …`. */
export function registerQuarantine(program: Command): void {
  const q = program.command('quarantine').description('review, release, delete and export quarantined mail');
  q.command('list')
    .option('--reason <kind>', `one of ${KINDS.join(', ')}`, enumParser('--reason', KINDS))
    .option('--rule <name>', 'quarantined by this transport rule')
    .option('--since <window>', 'received within, e.g. 7d, or since an ISO date')
    .option('--recipient <address>', 'held for this recipient')
    .option('--limit <n>', 'rows', parsePositiveInt, 1000)
    .addOption(formatOption())
    .action(async (o: { reason?: (typeof KINDS)[number]; rule?: string; since?: string; recipient?: string; limit: number; format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        let since: number | undefined;
        try {
          since = o.since === undefined ? undefined : parseSince(o.since, Date.now());
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        const items = await listQuarantine(ctx, { reason: o.reason, rule: o.rule, since, recipient: o.recipient, limit: o.limit });
        printRows(items.map(rowOut), o.format === 'table' ? COLUMNS : [...COLUMNS, 'kind', 'rule', 'spf', 'dkim', 'compauth', 'size'], o.format);
      }),
    );
  q.command('show <id>')
    .description('headers, a text preview and the attachments (listed, never opened)')
    .addOption(formatOption())
    .action(async (id: string, o: { format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const item = await showQuarantine(ctx, id);
        if (o.format === 'json') {
          process.stdout.write(JSON.stringify(item, null, 2) + '\n');
          return;
        }
        const attachments = item.preview.attachments.map((a) => `${a.name || '(no name)'} ${a.type} ${a.size} bytes`).join('; ');
        printRecord({ ...rowOut(item), attachments, preview: item.preview.textSource }, o.format);
        if (o.format !== 'table') return;
        process.stdout.write(block('headers', item.preview.headers.trimEnd()));
        process.stdout.write(block(`preview (${item.preview.textSource})`, item.preview.text));
      }),
    );
  q.command('release <id>')
    .description('deliver a quarantined message (to every held recipient, or --to some of them), exactly once')
    .option('--to <address...>', 'release to these recipients only')
    .option('--why <text>', 'why (recorded in the trace)')
    .action(async (id: string, o: { to?: string[]; why?: string }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const r = await releaseQuarantine(ctx, id, { to: o.to, why: o.why });
        for (const x of r.released) process.stdout.write(terminalSafe(`${id}: released to ${x.rcpt}${x.queueId !== id ? ` as ${x.queueId}` : ''}`) + '\n');
      }),
    );
  q.command('delete <id>')
    .description('delete a quarantined message for good')
    .option('--why <text>', 'why (recorded in the trace)')
    .action(async (id: string, o: { why?: string }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        await deleteQuarantine(ctx, id, { why: o.why });
        process.stdout.write(`${terminalSafe(id)}: deleted\n`);
      }),
    );
  q.command('export <id>')
    .description('the message as an .eml, to stdout or --out FILE')
    .option('--out <file>', 'write to this file (created, 0600; an existing file is refused)')
    .action(async (id: string, o: { out?: string }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const src = exportQuarantine(ctx, id);
        await pipeline(src, o.out ? createWriteStream(o.out, { flags: 'wx', mode: 0o600 }) : process.stdout, { end: o.out !== undefined });
      }),
    );
  q.command('requests')
    .description('release requests recipients made from their notifications')
    .option('--state <state>', 'pending (default), approved, denied or all', enumParser('--state', ['pending', 'approved', 'denied', 'all'] as const), 'pending')
    .addOption(formatOption())
    .action(async (o: { state: 'pending' | 'approved' | 'denied' | 'all'; format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const rows = (await listRequests(ctx, o.state)).map((r) => ({
          id: r.id,
          message: r.queueId,
          recipient: r.rcpt,
          requested: new Date(r.requestedAt).toISOString(),
          state: r.state,
          decidedBy: r.decidedBy ?? '',
          approvers: r.approvers.join(', '),
        }));
        printRows(rows, ['id', 'message', 'recipient', 'requested', 'state', 'decidedBy', 'approvers'], o.format);
      }),
    );
  q.command('approve <request>')
    .description('approve a release request: the message goes to that recipient only, once')
    .option('--why <text>', 'why (recorded in the trace)')
    .action(async (id: string, o: { why?: string }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const r = await approveRequest(ctx, id, o.why);
        process.stdout.write(terminalSafe(`${id}: approved; ${r.queueId} released to ${r.rcpt}`) + '\n');
      }),
    );
  q.command('deny <request>')
    .description('deny a release request (the message stays in quarantine)')
    .action(async (id: string, _o: unknown, cmd: Command) =>
      withOps(cmd, (ctx) => {
        denyRequest(ctx, id);
        process.stdout.write(terminalSafe(`${id}: denied`) + '\n');
      }),
    );
  q.command('hold <id>')
    .description("quarantine a queued message as an admin's hold")
    .option('--why <text>', 'why (recorded with the reason and in the trace)')
    .action(async (id: string, o: { why?: string }, cmd: Command) =>
      withOps(cmd, (ctx) => {
        const reason = holdMessage(ctx, id, { why: o.why });
        process.stdout.write(terminalSafe(`${id}: quarantined (${reason.text})`) + '\n');
      }),
    );
}
