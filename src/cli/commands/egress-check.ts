/**
 * @module cli/commands/egress-check
 * `mailgate egress check --target HOST [--ports 25,465,587] [--timeout-ms N]`: run on an admin's
 * host in a client subnet, it tries a TCP connect to each port of an outside mail server at once
 * and reports per port `open` (the handshake completed: the firewall lets it out) or `blocked`
 * (reset, unreachable, or no answer within the timeout; the detail says which). Exit 0 only when
 * every port is blocked, 1 when any is open or the target does not resolve, 2 on a usage error.
 * A reset can also come from a target that does not listen on that port: pick a target that
 * listens on all of them (a large provider's MX or submission host).
 * Touches: DNS (the target's address) and outbound TCP connects; nothing is sent on a connection.
 */
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import type { Command } from 'commander';
import type { CliIo } from '../context.ts';
import { CliError, formatOption, parsePort, printRows, splitList, UsageError, type OutputFormat } from '../format.ts';

export interface PortProbe {
  target: string;
  address: string;
  port: number;
  result: 'open' | 'blocked';
  detail: string;
  ms: number;
}

const MAX_PORTS = 32;
const MAX_TIMEOUT_MS = 60_000;

/** Try one TCP connect; settles within `timeoutMs` (plus the event loop). */
export function probePort(address: string, port: number, timeoutMs: number): Promise<Omit<PortProbe, 'target'>> {
  const start = Date.now();
  return new Promise((resolve) => {
    const sock = connect({ host: address, port });
    let done = false;
    const finish = (result: 'open' | 'blocked', detail: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ address, port, result, detail, ms: Date.now() - start });
    };
    const timer = setTimeout(() => finish('blocked', `no answer within ${timeoutMs} ms (dropped)`), timeoutMs);
    sock.once('connect', () => finish('open', 'connected'));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ECONNREFUSED' ? 'reset (refused)' : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' ? 'unreachable' : 'error';
      finish('blocked', `${why}${e.code ? ` (${e.code})` : ''}`);
    });
  });
}

function parsePorts(v: string): number[] {
  const ports = [...new Set(splitList(v).map(parsePort))];
  if (ports.length === 0) throw new UsageError('--ports: give at least one port');
  if (ports.length > MAX_PORTS) throw new UsageError(`--ports: at most ${MAX_PORTS} ports`);
  return ports;
}

function parseTimeout(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > MAX_TIMEOUT_MS) throw new UsageError(`--timeout-ms must be 1-${MAX_TIMEOUT_MS} (got "${v}")`);
  return n;
}

interface CheckOpts {
  target: string;
  ports?: number[];
  timeoutMs: number;
  format: OutputFormat;
}

/** Register `egress check` under `egress`; `defaultPorts` are the blocked ports of the policy in force. */
export function registerEgressCheck(egress: Command, io: CliIo, defaultPorts: (cmd: Command) => Promise<number[]>): void {
  egress
    .command('check')
    .description('from a client subnet: try TCP connects to an outside mail server and report each port blocked or open (exit 0 only if all are blocked)')
    .requiredOption('--target <host>', 'an outside host that listens on the ports (name or IP)')
    .option('--ports <list>', 'comma separated ports (default: the blocked ports of the policy in force)', parsePorts)
    .option('--timeout-ms <n>', `how long to wait for each connect (1-${MAX_TIMEOUT_MS})`, parseTimeout, 3000)
    .addOption(formatOption())
    .action(async (o: CheckOpts, cmd: Command) => {
      const target = o.target.trim();
      if (target === '' || /[\s/]/.test(target)) throw new UsageError(`--target must be a host name or an IP address (got "${o.target}")`);
      const ports = o.ports ?? (await defaultPorts(cmd));
      let address: string;
      try {
        address = (await lookup(target.replace(/^\[(.*)\]$/, '$1'))).address;
      } catch (e) {
        throw new CliError(`cannot resolve ${target}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (nothing was probed)`);
      }
      const probes = await Promise.all(ports.map((p) => probePort(address, p, o.timeoutMs)));
      const rows: PortProbe[] = probes.map((p) => ({ target, ...p }));
      printRows(rows.map((r) => ({ ...r })), ['target', 'address', 'port', 'result', 'detail', 'ms'], o.format, io.out);
      const open = rows.filter((r) => r.result === 'open');
      if (o.format === 'table') {
        io.out.write(open.length ? `\n${open.length} of ${rows.length} ports OPEN: direct SMTP egress is not blocked from here\n` : `\nall ${rows.length} ports blocked\n`);
      }
      if (open.length) process.exitCode = 1;
    });
}
