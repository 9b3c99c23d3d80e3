/**
 * @module cli/commands/trace
 * `mailgate trace search|show`: the message trace (Exchange's Get-MessageTraceV2 /
 * Get-MessageTraceDetailV2, with mailgate's own refusals included).
 * Touches: the SQLite trace tables (read only).
 */
import type { Command } from 'commander';
import { ensureTraceSchema, getTrace, parseSince, searchTrace, type TraceFilter, type TraceMessage, type TraceStatus } from '../../trace/index.ts';
import { withContext } from '../context.ts';
import { CliError, UsageError, enumParser, formatOption, printRecord, printRows, type OutputFormat } from '../format.ts';

const STATUSES: readonly TraceStatus[] = ['Received', 'Pending', 'Delivered', 'Failed', 'Quarantined', 'Rejected', 'Deferred'];
const TLS = ['none', '1.0', '1.1', '1.2', '1.3'] as const;

function rowOut(m: TraceMessage): Record<string, unknown> {
  return {
    id: m.id,
    received: new Date(m.receivedAt).toISOString(),
    clientIp: m.clientIp,
    listener: m.listener,
    tls: m.tlsVersion ?? 'none',
    from: m.mailFrom === '' ? '<>' : (m.mailFrom ?? ''),
    headerFrom: m.headerFrom ?? '',
    recipients: m.recipients.join(' '),
    subject: m.subject ?? '',
    attribution: m.attribution ?? '',
    connector: m.connector ?? '',
    status: m.status,
    reply: m.reply ?? '',
  };
}

interface SearchOpts {
  since: string;
  sender?: string;
  recipient?: string;
  status?: TraceStatus;
  attribution?: string;
  connector?: string;
  clientIp?: string;
  tls?: (typeof TLS)[number];
  limit: number;
  format: OutputFormat;
}

/** Register `trace …`. */
export function registerTrace(program: Command): void {
  const t = program.command('trace').description('message trace: every message and refusal');
  t.command('search')
    .option('--since <window>', 'e.g. 1h, 2d, 90d or an ISO date', '2d')
    .option('--sender <text>', 'MAIL FROM or header From contains')
    .option('--recipient <text>', 'a recipient contains')
    .option('--status <status>', STATUSES.join('|'), enumParser('--status', STATUSES))
    .option('--attribution <kind>', 'authenticated|connector|direct-send|anonymous-external|relay-denied')
    .option('--connector <name>', 'connector name, or none')
    .option('--client-ip <ip>', 'an IP or CIDR')
    .option('--tls <version>', TLS.join('|'), enumParser('--tls', TLS))
    .option('--limit <n>', 'most rows', (v) => Number(v), 1000)
    .addOption(formatOption())
    .action(async (o: SearchOpts, cmd: Command) =>
      withContext(cmd, (ctx) => {
        ensureTraceSchema(ctx.db);
        let since: number;
        try {
          since = parseSince(o.since, Date.now());
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        const filter: TraceFilter = {
          since,
          sender: o.sender,
          recipient: o.recipient,
          status: o.status,
          attribution: o.attribution,
          connector: o.connector,
          clientIp: o.clientIp,
          tls: o.tls,
          limit: o.limit,
        };
        const rows = searchTrace(ctx.db, filter).map(rowOut);
        printRows(rows, ['id', 'received', 'clientIp', 'tls', 'from', 'recipients', 'attribution', 'connector', 'status', 'reply'], o.format);
      }),
    );
  t.command('show <id>')
    .addOption(formatOption())
    .action(async (id: string, o: { format: OutputFormat }, cmd: Command) =>
      withContext(cmd, (ctx) => {
        ensureTraceSchema(ctx.db);
        const r = getTrace(ctx.db, id);
        if (!r) throw new CliError(`no trace for ${id}`);
        if (o.format === 'json') {
          process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          return;
        }
        printRecord({ ...rowOut(r.message), helo: r.message.helo ?? '', certSubject: r.message.certSubject ?? '', authUser: r.message.authUser ?? '', size: r.message.size ?? '', messageId: r.message.messageId ?? '' }, o.format);
        process.stdout.write('\n');
        printRows(
          r.events.map((e) => ({ at: new Date(e.at).toISOString(), event: e.event, recipient: e.recipient ?? '', detail: e.detail ?? '' })),
          ['at', 'event', 'recipient', 'detail'],
          o.format,
        );
      }),
    );
}
