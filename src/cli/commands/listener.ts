/**
 * @module cli/commands/listener
 * `mailgate listener add|set|list|show|remove`: receive connectors (the SMTP listeners) without
 * editing YAML — bind address and port, role, TLS mode and files, AUTH, scoped access, default
 * deny and limits. Every change is a config version, validated like any other (two listeners on
 * one address and port are refused); removing the last listener needs `--force`. A running
 * gateway starts, restarts or closes the listener within a second.
 * Touches: the config store (through cli/context).
 */
import type { Command } from 'commander';
import { receiveConnectorSchema, type ReceiveConnector } from '../../config/index.ts';
import { actor, changedIn, defaultIo, indexOfNamed, registerRemoveNamed, requireNamed, withContext, type CliIo } from '../context.ts';
import { CliError, enumParser, formatOption, parseBool, parsePort, parsePositiveInt, printRecord, printRows, requireIps, splitList, type OutputFormat } from '../format.ts';

const parseRole = enumParser('--role', ['mx', 'relay', 'submission'] as const);
const parseTlsMode = enumParser('--tls', ['starttls', 'implicit', 'none'] as const);

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

function setFile(tls: ReceiveConnector['tls'], key: 'certFile' | 'keyFile' | 'clientCaFile', v: string | undefined): void {
  if (v === undefined) return;
  if (v === '') delete tls[key];
  else tls[key] = v;
}

function apply(l: ReceiveConnector, o: ListenerOpts): void {
  if (o.bind !== undefined) l.bind = o.bind;
  if (o.port !== undefined) l.port = o.port;
  if (o.role !== undefined) l.role = o.role;
  if (o.tls !== undefined) l.tls.mode = o.tls;
  setFile(l.tls, 'certFile', o.certFile);
  setFile(l.tls, 'keyFile', o.keyFile);
  setFile(l.tls, 'clientCaFile', o.clientCaFile);
  if (o.requireAuth !== undefined) l.requireAuth = o.requireAuth;
  if (o.remoteIp !== undefined) l.remoteIPRanges = requireIps('--remote-ip', splitList(o.remoteIp));
  if (o.defaultDeny !== undefined) l.defaultDeny = o.defaultDeny;
  if (o.maxMessageSize !== undefined) l.maxMessageSize = o.maxMessageSize;
  if (o.maxConnections !== undefined) l.maxConnections = o.maxConnections;
  if (o.greetingDelayMs !== undefined) l.greetingDelayMs = o.greetingDelayMs;
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
      await withContext(cmd, ({ store, dataDir }) => {
        const v = store.update(actor(), `listener add ${name}`, (draft) => {
          if (indexOfNamed(draft.receiveConnectors, name) >= 0) throw new CliError(`listener "${name}" already exists`);
          const l = receiveConnectorSchema.parse({ name, port: o.port });
          apply(l, o);
          draft.receiveConnectors.push(l);
        });
        io.out.write(`listener ${name} added (${changedIn({ dataDir }, v)})\n`);
      });
    });
  options(listener.command('set'))
    .description('change a receive connector')
    .argument('<name>', 'listener name')
    .option('--port <port>', 'TCP port', parsePort)
    .action(async (name: string, o: ListenerOpts, cmd: Command) => {
      await withContext(cmd, ({ store, dataDir }) => {
        const v = store.update(actor(), `listener set ${name}`, (draft) => apply(requireNamed(draft.receiveConnectors, name, 'listener'), o));
        io.out.write(`listener ${name} updated (${changedIn({ dataDir }, v)})\n`);
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
      await withContext(cmd, ({ store }) => printRows((store.current()?.config.receiveConnectors ?? []).map(row), COLUMNS, o.format, io.out));
    });
  listener
    .command('show')
    .description('show one receive connector with every setting')
    .argument('<name>', 'listener name')
    .addOption(formatOption())
    .action(async (name: string, o: { format: OutputFormat }, cmd: Command) => {
      await withContext(cmd, ({ store }) => printRecord({ ...requireNamed(store.current()?.config.receiveConnectors ?? [], name, 'listener') }, o.format, io.out));
    });
  registerRemoveNamed(listener, io, { description: 'remove a receive connector', noun: 'listener', verb: 'listener', list: (c) => c.receiveConnectors, complete: true });
}
