/**
 * @module cli/commands/egress
 * `mailgate egress show|set|exception add|remove|render|check`: the egress policy (the `egress:`
 * block: internal ranges, the relay's addresses, named exceptions with expiry, blocked ports, log,
 * reject or drop) set by flags as other nouns are (or by YAML through `config apply`), and rendered
 * for a firewall by egress/ (pure). Every change is a new config version; the rendered file names
 * the version it came from.
 * Touches: the config store (through cli/context); writes the `-o` file of render.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Egress } from '../../config/index.ts';
import { EGRESS_FORMATS, renderEgress, type EgressFormat } from '../../egress/index.ts';
import { actor, defaultIo, indexOfNamed, registerRemoveNamed, withContext, type CliIo } from '../context.ts';
import { CliError, enumParser, formatOption, parseBool, parsePort, printRecord, printRows, requireIps, splitList, UsageError, type OutputFormat } from '../format.ts';
import { registerEgressCheck } from './egress-check.ts';

const DEFAULT_PORTS = [25, 465, 587];
const today = (): string => new Date().toISOString().slice(0, 10);

function parseDate(v: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new UsageError(`expected a date YYYY-MM-DD, got "${v}"`);
  return v;
}

/** The exceptions with their state on `day`. */
function exceptionRows(e: Egress, day: string): Record<string, unknown>[] {
  return e.exceptions.map((x) => ({ name: x.name, addresses: x.addresses, comment: x.comment, expires: x.expires ?? '', state: x.expires !== undefined && x.expires < day ? 'expired' : 'active' }));
}

function registerShow(egress: Command, io: CliIo): void {
  egress
    .command('show')
    .description('show the egress policy (exceptions with their state today)')
    .addOption(formatOption())
    .action(async (o: { format: OutputFormat }, cmd: Command) =>
      withContext(cmd, async ({ store }) => {
        const cur = await store.current();
        if (!cur) throw new CliError('no configuration in force');
        const { exceptions: _x, ...rest } = cur.config.egress;
        const exceptions = exceptionRows(cur.config.egress, today());
        if (o.format === 'json') io.out.write(JSON.stringify({ version: cur.version, ...rest, exceptions }, null, 2) + '\n');
        else if (o.format === 'csv') printRows(exceptions, ['name', 'addresses', 'comment', 'expires', 'state'], 'csv', io.out);
        else {
          printRecord({ version: cur.version, ...rest }, 'table', io.out);
          io.out.write('\nexceptions:\n');
          if (exceptions.length) printRows(exceptions, ['name', 'addresses', 'comment', 'expires', 'state'], 'table', io.out);
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

/** Replace, add to or remove from the address list of `--<flag>` (values checked as IPs/CIDRs). */
function editList(flag: string, list: string[], replace?: string[], add?: string[], remove?: string[]): string[] {
  let out = replace ? requireIps(`--${flag}`, splitList(replace)) : [...list];
  for (const a of add ? requireIps(`--add-${flag}`, splitList(add)) : []) if (!out.includes(a)) out.push(a);
  const gone = new Set(remove ? splitList(remove) : []);
  for (const r of gone) if (!out.includes(r)) throw new CliError(`${r} is not in the list`);
  out = out.filter((x) => !gone.has(x));
  return out;
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
    .option('--action <action>', 'reject (TCP reset) or drop', enumParser('--action', ['reject', 'drop'] as const))
    .option('--inside <name>', 'inside interface or zone (ASA, FortiGate, PAN-OS)')
    .option('--outside <name>', 'outside interface or zone (FortiGate, PAN-OS)')
    .option('--comment <text>', 'why (recorded in config history)')
    .action(async (o: SetOpts, cmd: Command) => {
      const { comment, ...set } = o;
      const what = Object.entries(set).filter(([, v]) => v !== undefined).map(([k]) => k);
      if (!what.length) throw new UsageError('egress set: nothing to change (see --help)');
      const ports = o.ports === undefined ? undefined : [...new Set(splitList(o.ports).map(parsePort))];
      if (ports?.length === 0) throw new UsageError('--ports: give at least one port');
      await withContext(cmd, async ({ store }) => {
        const v = await store.update(actor(), comment ?? `egress set ${what.join(' ')}`, (draft) => {
          const e = draft.egress;
          e.internalRanges = editList('internal-range', e.internalRanges, o.internalRange, o.addInternalRange, o.removeInternalRange);
          e.relayAddresses = editList('relay-address', e.relayAddresses, o.relayAddress, o.addRelayAddress, o.removeRelayAddress);
          if (ports) e.blockedPorts = ports;
          if (o.log !== undefined) e.log = o.log;
          if (o.action !== undefined) e.action = o.action;
          if (o.inside !== undefined) e.insideInterface = o.inside;
          if (o.outside !== undefined) e.outsideInterface = o.outside;
        });
        io.out.write(`egress policy updated (config version ${v})\n`);
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
      await withContext(cmd, async ({ store }) => {
        const v = await store.update(actor(), `egress exception add ${name}`, (draft) => {
          const list = draft.egress.exceptions;
          const item = { name, addresses, comment: o.comment, ...(o.expires ? { expires: o.expires } : {}) };
          const i = indexOfNamed(list, name);
          if (i >= 0) list[i] = item;
          else list.push(item);
        });
        io.out.write(`egress exception ${name} saved (config version ${v})\n`);
      });
    });
  registerRemoveNamed(exc, io, { description: 'remove a named exception', noun: 'egress exception', verb: 'egress exception', list: (c) => c.egress.exceptions });
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
      withContext(cmd, async ({ store }) => {
        const cur = await store.current();
        if (!cur) throw new CliError('no configuration in force');
        const text = renderEgress(o.format, cur.config.egress, { version: cur.version, asOf: o.date ?? today() });
        if (o.output) {
          writeFileSync(o.output, text);
          io.err.write(`wrote ${o.output} (${o.format}, config version ${cur.version})\n`);
        } else io.out.write(text);
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
    return withContext(cmd, async ({ store }) => [...((await store.current())?.config.egress.blockedPorts ?? DEFAULT_PORTS)]);
  });
}
