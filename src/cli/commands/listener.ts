/**
 * @module cli/commands/listener
 * `mailgate listener add|set|list|show|remove`: receive connectors (the SMTP listeners) without
 * editing YAML — bind address and port, role, TLS mode and files, AUTH, scoped access, default
 * deny and limits. Every change is a config version, validated like any other (two listeners on
 * one address and port are refused); removing the last listener needs `--force`. A running
 * gateway starts, restarts or closes the listener within a second.
 * The logic is ops/listeners'; this file maps flags to a change and prints.
 * Touches: the config store (through ops/listeners).
 */
import type { Command } from 'commander';
import type { ReceiveConnector } from '../../config/index.ts';
import { addListener, LISTENER_ROLES, listListeners, removeListener, setListener, showListener, TLS_MODES, type ListenerChange } from '../../ops/listeners.ts';
import { changedIn, defaultIo, withOps, type CliIo } from '../context.ts';
import { enumParser, formatOption, parseBool, parsePort, parsePositiveInt, printRecord, printRows, requireIps, splitList, type OutputFormat } from '../format.ts';

const parseRole = enumParser('--role', LISTENER_ROLES);
const parseTlsMode = enumParser('--tls', TLS_MODES);

interface ListenerOpts {
  bind?: string;
  port?: number;
  role?: ReceiveConnector['role'];
  tls?: ReceiveConnector['tls']['mode'];
  certFile?: string;
  keyFile?: string;
  clientCaFile?: string;
  requireAuth?: boolean;
  remoteIp?: string[];
  defaultDeny?: boolean;
  maxMessageSize?: number;
  maxConnections?: number;
  greetingDelayMs?: number;
}

const COLUMNS = ['name', 'bind', 'port', 'role', 'tls', 'requireAuth', 'remoteIPRanges', 'defaultDeny'];

function options(cmd: Command): Command {
  return cmd
    .option('--bind <address>', 'address to listen on (0.0.0.0 / :: = every address)')
    .option('--role <role>', 'mx, relay or submission', parseRole)
    .option('--tls <mode>', 'starttls, implicit or none', parseTlsMode)
    .option('--cert-file <file>', 'PEM certificate chain ("" = the generated self-signed one)')
    .option('--key-file <file>', 'PEM key for --cert-file')
    .option('--client-ca-file <file>', 'PEM CAs that client certificates must chain to ("" = system CAs)')
    .option('--require-auth <bool>', 'SMTP AUTH before MAIL (default: true for submission)', parseBool)
    .option('--remote-ip <cidr...>', 'scoped access: only these clients (replaces the list; "" = any)')
    .option('--default-deny <bool>', 'accept only connector-matched or authenticated mail', parseBool)
    .option('--max-message-size <bytes>', 'largest message (SIZE)', parsePositiveInt)
    .option('--max-connections <n>', 'concurrent connections per process', parsePositiveInt)
    .option('--greeting-delay-ms <ms>', 'pause before the banner (early-talker detection)', (v) => (v === '0' ? 0 : parsePositiveInt(v)));
}

/** The ops change the flags ask for (scoped-access IPs checked here, as flags: exit 2). */
function toChange(o: ListenerOpts): ListenerChange {
  const c: ListenerChange = {};
  if (o.bind !== undefined) c.bind = o.bind;
  if (o.port !== undefined) c.port = o.port;
  if (o.role !== undefined) c.role = o.role;
  if (o.tls !== undefined) c.tlsMode = o.tls;
  if (o.certFile !== undefined) c.certFile = o.certFile;
  if (o.keyFile !== undefined) c.keyFile = o.keyFile;
  if (o.clientCaFile !== undefined) c.clientCaFile = o.clientCaFile;
  if (o.requireAuth !== undefined) c.requireAuth = o.requireAuth;
  if (o.remoteIp !== undefined) c.remoteIPRanges = requireIps('--remote-ip', splitList(o.remoteIp));
  if (o.defaultDeny !== undefined) c.defaultDeny = o.defaultDeny;
  if (o.maxMessageSize !== undefined) c.maxMessageSize = o.maxMessageSize;
  if (o.maxConnections !== undefined) c.maxConnections = o.maxConnections;
  if (o.greetingDelayMs !== undefined) c.greetingDelayMs = o.greetingDelayMs;
  return c;
}

function row(l: ReceiveConnector): Record<string, unknown> {
  return { ...l, tls: l.tls.mode, requireAuth: l.requireAuth ?? l.role === 'submission' };
}

function registerAddSet(listener: Command, io: CliIo): void {
  options(listener.command('add'))
    .description('add a receive connector (an SMTP listener)')
    .argument('<name>', 'listener name')
    .requiredOption('--port <port>', 'TCP port', parsePort)
    .action(async (name: string, o: ListenerOpts, cmd: Command) => {
      const change = { ...toChange(o), port: o.port ?? 0 };
      await withOps(cmd, async (ctx) => {
        const { version } = await addListener(ctx, name, change);
        io.out.write(`listener ${name} added (${changedIn(ctx, version)})\n`);
      });
    });
  options(listener.command('set'))
    .description('change a receive connector')
    .argument('<name>', 'listener name')
    .option('--port <port>', 'TCP port', parsePort)
    .action(async (name: string, o: ListenerOpts, cmd: Command) => {
      const change = toChange(o);
      await withOps(cmd, async (ctx) => {
        const { version } = await setListener(ctx, name, change);
        io.out.write(`listener ${name} updated (${changedIn(ctx, version)})\n`);
      });
    });
}

/** Register `listener add|set|list|show|remove`. */
export function registerListener(program: Command, io: CliIo = defaultIo()): void {
  const listener = program.command('listener').description('receive connectors: the SMTP listeners (address, port, role, TLS, access)');
  registerAddSet(listener, io);
  listener
    .command('list')
    .description('list receive connectors')
    .addOption(formatOption())
    .action(async (o: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => printRows((await listListeners(ctx)).map(row), COLUMNS, o.format, io.out));
    });
  listener
    .command('show')
    .description('show one receive connector with every setting')
    .argument('<name>', 'listener name')
    .addOption(formatOption())
    .action(async (name: string, o: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => printRecord({ ...(await showListener(ctx, name)) }, o.format, io.out));
    });
  listener
    .command('remove')
    .description('remove a receive connector')
    .argument('<name>', 'listener name')
    .option('--force', 'remove even the last listener')
    .action(async (name: string, o: { force?: boolean }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version } = await removeListener(ctx, name, o);
        io.out.write(`listener ${name} removed (${changedIn(ctx, version)})\n`);
      });
    });
}
