/**
 * @module cli/commands/egress
 * `mailgate egress show|set|exception add|remove|render|check`: the egress policy (the `egress:`
 * block: internal ranges, the relay's addresses, named exceptions with expiry, blocked ports, log,
 * reject or drop) set by flags as other nouns are (or by YAML through `config apply`), and rendered
 * for a firewall by egress/ (pure). Every change is a new config version; the rendered file names
 * the version it came from. The logic is ops/egress'; this file maps flags and prints.
 * Touches: the config store (through ops/egress); writes the `-o` file of render.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Egress } from '../../config/index.ts';
import {
  EGRESS_ACTIONS,
  EGRESS_FORMATS,
  parseEgressDate,
  removeEgressException,
  renderEgressPolicy,
  saveEgressException,
  setEgress,
  showEgress,
  type EgressChange,
  type EgressFormat,
} from '../../ops/egress.ts';
import { changedIn, defaultIo, withOps, type CliIo } from '../context.ts';
import { enumParser, formatOption, parseBool, parsePort, printRecord, printRows, requireIps, splitList, UsageError, type OutputFormat } from '../format.ts';
import { usageOf } from '../ops-context.ts';
import { registerEgressCheck } from './egress-check.ts';

const DEFAULT_PORTS = [25, 465, 587];
const EXCEPTION_COLUMNS = ['name', 'addresses', 'comment', 'expires', 'state'];

function parseDate(v: string): string {
  try {
    return parseEgressDate(v);
  } catch (e) {
    throw usageOf(e);
  }
}

function registerShow(egress: Command, io: CliIo): void {
  egress
    .command('show')
    .description('show the egress policy (exceptions with their state today)')
    .addOption(formatOption())
    .action(async (o: { format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const { exceptions, ...rest } = await showEgress(ctx);
        if (o.format === 'json') io.out.write(JSON.stringify({ ...rest, exceptions }, null, 2) + '\n');
        else if (o.format === 'csv') printRows(exceptions, EXCEPTION_COLUMNS, 'csv', io.out);
        else {
          printRecord(rest, 'table', io.out);
          io.out.write('\nexceptions:\n');
          if (exceptions.length) printRows(exceptions, EXCEPTION_COLUMNS, 'table', io.out);
          else io.out.write('(none)\n');
        }
      }),
    );
}

interface SetOpts {
  internalRange?: string[];
  addInternalRange?: string[];
  removeInternalRange?: string[];
  relayAddress?: string[];
  addRelayAddress?: string[];
  removeRelayAddress?: string[];
  ports?: string;
  log?: boolean;
  action?: Egress['action'];
  inside?: string;
  outside?: string;
  comment?: string;
}

/** The ops change the flags ask for (addresses checked here, as flags: exit 2). */
function toChange(o: SetOpts): EgressChange {
  const ports = o.ports === undefined ? undefined : [...new Set(splitList(o.ports).map(parsePort))];
  if (ports?.length === 0) throw new UsageError('--ports: give at least one port');
  const ips = (flag: string, v: string[] | undefined): string[] | undefined => (v ? requireIps(`--${flag}`, splitList(v)) : undefined);
  const c: EgressChange = {
    internalRanges: ips('internal-range', o.internalRange),
    addInternalRanges: ips('add-internal-range', o.addInternalRange),
    removeInternalRanges: o.removeInternalRange ? splitList(o.removeInternalRange) : undefined,
    relayAddresses: ips('relay-address', o.relayAddress),
    addRelayAddresses: ips('add-relay-address', o.addRelayAddress),
    removeRelayAddresses: o.removeRelayAddress ? splitList(o.removeRelayAddress) : undefined,
    blockedPorts: ports,
    log: o.log,
    action: o.action,
    insideInterface: o.inside,
    outsideInterface: o.outside,
  };
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as EgressChange;
}

function registerSet(egress: Command, io: CliIo): void {
  egress
    .command('set')
    .description('change the egress policy (list flags replace; --add-/--remove- edit)')
    .option('--internal-range <cidr...>', 'internal source ranges (IPv4 and IPv6), replacing the list')
    .option('--add-internal-range <cidr...>', 'add internal ranges')
    .option('--remove-internal-range <cidr...>', 'remove internal ranges')
    .option('--relay-address <ip...>', "mailgate's own addresses (may still send out), replacing the list")
    .option('--add-relay-address <ip...>', 'add relay addresses')
    .option('--remove-relay-address <ip...>', 'remove relay addresses')
    .option('--ports <list>', 'blocked TCP ports, comma separated (default 25,465,587; add 2525 if you like)')
    .option('--log <bool>', 'log blocked attempts', parseBool)
    .option('--action <action>', 'reject (TCP reset) or drop', enumParser('--action', EGRESS_ACTIONS))
    .option('--inside <name>', 'inside interface or zone (ASA, FortiGate, PAN-OS)')
    .option('--outside <name>', 'outside interface or zone (FortiGate, PAN-OS)')
    .option('--comment <text>', 'why (recorded in config history)')
    .action(async (o: SetOpts, cmd: Command) => {
      const { comment, ...set } = o;
      const what = Object.entries(set).filter(([, v]) => v !== undefined).map(([k]) => k);
      if (!what.length) throw new UsageError('egress set: nothing to change (see --help)');
      const change = toChange(o);
      await withOps(cmd, async (ctx) => {
        const { version } = await setEgress(ctx, change, comment ?? `egress set ${what.join(' ')}`);
        io.out.write(`egress policy updated (config version ${version})\n`);
      });
    });
}

function registerException(egress: Command, io: CliIo): void {
  const exc = egress.command('exception').description('named exceptions: sources that may still send SMTP out, with a comment and an optional expiry');
  exc
    .command('add')
    .description('add (or replace) a named exception')
    .argument('<name>', 'exception name (letters, digits, "_", "." and "-")')
    .requiredOption('--address <cidr...>', 'source IPs or CIDRs')
    .option('--comment <text>', 'why (rendered next to the exception)', '')
    .option('--expires <date>', 'last day (UTC, YYYY-MM-DD) it is rendered', parseDate)
    .action(async (name: string, o: { address: string[]; comment: string; expires?: string }, cmd: Command) => {
      const addresses = requireIps('--address', splitList(o.address));
      await withOps(cmd, async (ctx) => {
        const { version } = await saveEgressException(ctx, name, { addresses, comment: o.comment, ...(o.expires ? { expires: o.expires } : {}) });
        io.out.write(`egress exception ${name} saved (config version ${version})\n`);
      });
    });
  exc
    .command('remove')
    .description('remove a named exception')
    .argument('<name>', 'egress exception name')
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const { version } = await removeEgressException(ctx, name);
        io.out.write(`egress exception ${name} removed (${changedIn(ctx, version)})\n`);
      }),
    );
  for (const c of exc.commands) c.exitOverride();
}

function registerRender(egress: Command, io: CliIo): void {
  egress
    .command('render')
    .description('render the egress policy for a firewall (deterministic; the output names the config version)')
    .requiredOption('--format <format>', EGRESS_FORMATS.join('|'), enumParser('--format', EGRESS_FORMATS))
    .option('-o, --output <file>', 'write to FILE (default: stdout)')
    .option('--date <YYYY-MM-DD>', 'the day exception expiry is evaluated on (default: today, UTC)', parseDate)
    .action(async (o: { format: EgressFormat; output?: string; date?: string }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const r = await renderEgressPolicy(ctx, o.format, o.date);
        if (o.output) {
          writeFileSync(o.output, r.text);
          io.err.write(`wrote ${o.output} (${o.format}, config version ${r.version})\n`);
        } else io.out.write(r.text);
      }),
    );
}

/** Register `mailgate egress …`. */
export function registerEgress(program: Command, io: CliIo = defaultIo()): void {
  const egress = program.command('egress').description('block direct SMTP egress: the policy, rendered for your firewall, and a check from a client subnet');
  registerShow(egress, io);
  registerSet(egress, io);
  registerException(egress, io);
  registerRender(egress, io);
  // On an admin's host without a mailgate data directory, check the default ports rather than create one.
  registerEgressCheck(egress, io, async (cmd) => {
    const data = (cmd.optsWithGlobals() as { data?: string }).data ?? './data';
    if (!existsSync(join(resolve(data), 'mailgate.db'))) return [...DEFAULT_PORTS];
    return withOps(cmd, async (ctx) => [...(await showEgress(ctx)).blockedPorts]);
  });
}
