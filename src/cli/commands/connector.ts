/**
 * @module cli/commands/connector
 * `mailgate connector add|set|list|show|remove`: inbound connectors (New-/Set-/Get-/Remove-
 * InboundConnector), with flags named after the Exchange parameters. `--sender-ip` replaces the
 * list on set; `--add-sender-ip`/`--remove-sender-ip` edit it. Every change is a config version.
 * The logic is ops/connectors'; this file maps flags to a change and prints.
 * Touches: the config store (through ops/connectors).
 */
import type { Command } from 'commander';
import { addConnector, CONNECTOR_TYPES, listConnectors, removeConnector, setConnector, showConnector, type ConnectorChange, type ConnectorType } from '../../ops/connectors.ts';
import { changedIn, defaultIo, withOps, type CliIo } from '../context.ts';
import { enumParser, formatOption, printRecord, printRows, requireIps, splitList, UsageError, type OutputFormat } from '../format.ts';

const parseType = enumParser('--type', CONNECTOR_TYPES);

interface ConnectorOpts {
  type?: ConnectorType;
  senderIp?: string[];
  addSenderIp?: string[];
  removeSenderIp?: string[];
  senderDomain?: string[];
  addSenderDomain?: string[];
  removeSenderDomain?: string[];
  tlsCertName?: string;
  requireTls?: boolean;
  restrictDomainsToIp?: boolean;
  restrictDomainsToCertificate?: boolean;
  enabled?: boolean;
  disabled?: boolean;
  comment?: string;
}

const COLUMNS = [
  'name',
  'connectorType',
  'enabled',
  'senderIPAddresses',
  'senderDomains',
  'tlsSenderCertificateName',
  'requireTls',
  'restrictDomainsToIPAddresses',
  'restrictDomainsToCertificate',
  'comment',
];

function commonOptions(cmd: Command, set: boolean): Command {
  cmd
    .option('--sender-ip <cidr...>', `SenderIPAddresses: IPs or CIDRs${set ? ' (replaces the list)' : ''}`)
    .option('--sender-domain <domain...>', `SenderDomains ("*", "contoso.com", "*.contoso.com")${set ? ' (replaces the list)' : ''}`)
    .option('--tls-cert-name <name>', 'TlsSenderCertificateName: certificate subject/SAN name ("*.contoso.com")')
    .option('--require-tls', 'RequireTls: refuse mail through this connector without TLS')
    .option('--restrict-domains-to-ip', 'RestrictDomainsToIPAddresses (Partner): senderDomains must come from senderIPAddresses')
    .option('--restrict-domains-to-certificate', 'RestrictDomainsToCertificate (Partner): senderDomains must present the certificate')
    .option('--disabled', 'Enabled $false: the connector matches nothing')
    .option('--comment <text>', 'Comment: free text');
  return cmd;
}

function setOnlyOptions(cmd: Command): Command {
  return cmd
    .option('--type <type>', 'ConnectorType: Partner or OnPremises', parseType)
    .option('--add-sender-ip <cidr...>', 'add to SenderIPAddresses')
    .option('--remove-sender-ip <cidr...>', 'remove from SenderIPAddresses')
    .option('--add-sender-domain <domain...>', 'add to SenderDomains')
    .option('--remove-sender-domain <domain...>', 'remove from SenderDomains')
    .option('--no-require-tls', 'RequireTls $false')
    .option('--no-restrict-domains-to-ip', 'RestrictDomainsToIPAddresses $false')
    .option('--no-restrict-domains-to-certificate', 'RestrictDomainsToCertificate $false')
    .option('--enabled', 'Enabled $true');
}

/** The ops change the flags ask for (IP lists checked here, as flags: exit 2). */
function toChange(o: ConnectorOpts): ConnectorChange {
  if (o.enabled && o.disabled) throw new UsageError('--enabled and --disabled together');
  const c: ConnectorChange = {};
  if (o.type !== undefined) c.connectorType = o.type;
  if (o.senderIp) c.senderIPAddresses = requireIps('--sender-ip', splitList(o.senderIp));
  if (o.addSenderIp) c.addSenderIPAddresses = requireIps('--add-sender-ip', splitList(o.addSenderIp));
  if (o.removeSenderIp) c.removeSenderIPAddresses = splitList(o.removeSenderIp);
  if (o.senderDomain) c.senderDomains = splitList(o.senderDomain);
  if (o.addSenderDomain) c.addSenderDomains = splitList(o.addSenderDomain);
  if (o.removeSenderDomain) c.removeSenderDomains = splitList(o.removeSenderDomain);
  if (o.tlsCertName !== undefined) c.tlsSenderCertificateName = o.tlsCertName;
  if (o.requireTls !== undefined) c.requireTls = o.requireTls;
  if (o.restrictDomainsToIp !== undefined) c.restrictDomainsToIPAddresses = o.restrictDomainsToIp;
  if (o.restrictDomainsToCertificate !== undefined) c.restrictDomainsToCertificate = o.restrictDomainsToCertificate;
  if (o.enabled) c.enabled = true;
  if (o.disabled) c.enabled = false;
  if (o.comment !== undefined) c.comment = o.comment;
  return c;
}

function registerAddSet(connector: Command, io: CliIo): void {
  commonOptions(connector.command('add'), false)
    .description('add an inbound connector (New-InboundConnector)')
    .argument('<name>', 'connector name')
    .requiredOption('--type <type>', 'ConnectorType: Partner or OnPremises', parseType)
    .action(async (name: string, opts: ConnectorOpts & { type: ConnectorType }, cmd: Command) => {
      const change = { ...toChange(opts), connectorType: opts.type };
      await withOps(cmd, async (ctx) => {
        const { version } = await addConnector(ctx, name, change);
        io.out.write(`inbound connector ${name} added (${changedIn(ctx, version)})\n`);
      });
    });
  setOnlyOptions(commonOptions(connector.command('set'), true))
    .description('change an inbound connector (Set-InboundConnector)')
    .argument('<name>', 'connector name')
    .action(async (name: string, opts: ConnectorOpts, cmd: Command) => {
      const change = toChange(opts);
      await withOps(cmd, async (ctx) => {
        const { version } = await setConnector(ctx, name, change);
        io.out.write(`inbound connector ${name} updated (${changedIn(ctx, version)})\n`);
      });
    });
}

function registerReadRemove(connector: Command, io: CliIo): void {
  connector
    .command('list')
    .description('list inbound connectors (Get-InboundConnector)')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        printRows(await listConnectors(ctx), COLUMNS, opts.format, io.out);
      });
    });
  connector
    .command('show')
    .description('show one inbound connector')
    .argument('<name>', 'connector name')
    .addOption(formatOption())
    .action(async (name: string, opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        printRecord({ ...(await showConnector(ctx, name)) }, opts.format, io.out);
      });
    });
  connector
    .command('remove')
    .description('remove an inbound connector (Remove-InboundConnector)')
    .argument('<name>', 'inbound connector name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version } = await removeConnector(ctx, name);
        io.out.write(`inbound connector ${name} removed (${changedIn(ctx, version)})\n`);
      });
    });
}

/** Register `connector add|set|list|show|remove`. */
export function registerConnector(program: Command, io: CliIo = defaultIo()): void {
  const connector = program.command('connector').description('inbound connectors: how mail from known sources is recognised (by IP or certificate)');
  registerAddSet(connector, io);
  registerReadRemove(connector, io);
}
