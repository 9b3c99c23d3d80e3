/**
 * @module cli/commands/trace
 * `mailgate trace search|show`: the message trace (Exchange's Get-MessageTraceV2 /
 * Get-MessageTraceDetailV2, with mailgate's own refusals included).
 * The CLI's face of ops/trace; this file only formats.
 * Touches: nothing itself (ops/trace reads the trace tables).
 */
import type { Command } from 'commander';
import type { TraceMessage, TraceStatus } from '../../trace/index.ts';
import {
  searchMessages,
  showMessage,
  TRACE_CONNECTOR_TYPES as CONNECTOR_TYPES,
  TRACE_DKIM as DKIM,
  TRACE_DMARC as DMARC,
  TRACE_SPF as SPF,
  TRACE_STATUSES as STATUSES,
  TRACE_TLS as TLS,
} from '../../ops/trace.ts';
import { withOps } from '../context.ts';
import { enumParser, formatOption, parsePositiveInt, printRecord, printRows, type OutputFormat } from '../format.ts';
import { flagsChecked } from '../ops-context.ts';

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
    spf: (m.spf ?? '').split(' ')[0] ?? '',
    dmarc: (m.dmarc ?? '').split(' ')[0] ?? '',
    compauth: m.compauth ?? '',
    ...(m.node !== undefined ? { node: m.node } : {}),
  };
}

interface SearchOpts {
  since: string;
  sender?: string;
  recipient?: string;
  status?: TraceStatus;
  attribution?: string;
  connector?: string;
  connectorType?: (typeof CONNECTOR_TYPES)[number];
  clientIp?: string;
  tls?: (typeof TLS)[number];
  spf?: string;
  dkim?: string;
  dmarc?: string;
  spoofSuspect?: boolean;
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
    .option('--connector-type <type>', `${CONNECTOR_TYPES.join('|')} (as report inbound groups it)`, enumParser('--connector-type', CONNECTOR_TYPES))
    .option('--client-ip <ip>', 'an IP or CIDR')
    .option('--tls <version>', TLS.join('|'), enumParser('--tls', TLS))
    .option('--spf <result>', SPF.join('|'), enumParser('--spf', SPF))
    .option('--dkim <result>', DKIM.join('|') + ' (any signature)', enumParser('--dkim', DKIM))
    .option('--dmarc <result>', DMARC.join('|'), enumParser('--dmarc', DMARC))
    .option('--spoof-suspect', 'only messages that failed SPF, DKIM and DMARC together')
    .option('--limit <n>', 'most rows', parsePositiveInt, 1000)
    .addOption(formatOption())
    .action(async (o: SearchOpts, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const { format, ...filter } = o;
        const found = await flagsChecked(() => searchMessages(ctx, filter));
        const rows = found.map(rowOut);
        // A fleet's shared trace says which node received each message.
        const node = found.some((m) => m.node !== undefined) ? ['node'] : [];
        printRows(rows, ['id', 'received', ...node, 'clientIp', 'tls', 'from', 'recipients', 'attribution', 'connector', 'spf', 'dmarc', 'status', 'reply'], format);
      }),
    );
  t.command('show <id>')
    .addOption(formatOption())
    .action(async (id: string, o: { format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const r = await showMessage(ctx, id);
        if (o.format === 'json') {
          process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          return;
        }
        const m = r.message;
        printRecord(
          { ...rowOut(m), helo: m.helo ?? '', certSubject: m.certSubject ?? '', authUser: m.authUser ?? '', size: m.size ?? '', messageId: m.messageId ?? '', spf: m.spf ?? '', dkim: m.dkim ?? '', dmarc: m.dmarc ?? '', arc: m.arc ?? '', spoofSuspect: m.spoofSuspect ?? '', dnsLookups: m.dnsLookups ?? '' },
          o.format,
        );
        process.stdout.write('\n');
        printRows(
          r.events.map((e) => ({ at: new Date(e.at).toISOString(), event: e.event, recipient: e.recipient ?? '', detail: e.detail ?? '' })),
          ['at', 'event', 'recipient', 'detail'],
          o.format,
        );
        if (o.format === 'table') {
          // The same words the console shows (ops/trace-explain); table() escapes each cell for the terminal.
          process.stdout.write('\n');
          printRows([{ topic: 'summary', tone: '', text: r.explanation.summary }, ...r.explanation.lines], ['topic', 'tone', 'text'], o.format);
        }
      }),
    );
}
