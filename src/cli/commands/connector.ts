/**
 * @module cli/commands/connector
 * `mailgate connector add|set|list|show|remove`: inbound connectors (New-/Set-/Get-/Remove-
 * InboundConnector), with flags named after the Exchange parameters. `--sender-ip` replaces the
 * list on set; `--add-sender-ip`/`--remove-sender-ip` edit it. Every change is a config version.
 * Touches: the config store (through cli/context).
 */
import type { Command } from 'commander';
import type { InboundConnector } from '../../config/index.ts';
import { actor, changedIn, defaultIo, indexOfNamed, requireNamed, registerRemoveNamed, withContext, type CliIo } from '../context.ts';
import { CliError, enumParser, formatOption, printRecord, printRows, requireIps, splitList, UsageError, type OutputFormat } from '../format.ts';

type ConnectorType = InboundConnector['connectorType'];
const parseType = enumParser('--type', ['Partner', 'OnPremises'] as const);

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

function withoutAll(list: string[], remove: string[], what: string): string[] {
  for (const r of remove) {
    if (!list.some((x) => x.toLowerCase() === r.toLowerCase())) throw new CliError(`${what} does not contain "${r}"`);
  }
  const drop = new Set(remove.map((r) => r.toLowerCase()));
  return list.filter((x) => !drop.has(x.toLowerCase()));
}

function withAdded(list: string[], add: string[]): string[] {
  const out = [...list];
  for (const a of add) if (!out.some((x) => x.toLowerCase() === a.toLowerCase())) out.push(a);
  return out;
}

function applyLists(c: InboundConnector, o: ConnectorOpts): void {
  if (o.senderIp) c.senderIPAddresses = requireIps('--sender-ip', splitList(o.senderIp));
  if (o.addSenderIp) c.senderIPAddresses = withAdded(c.senderIPAddresses, requireIps('--add-sender-ip', splitList(o.addSenderIp)));
  if (o.removeSenderIp) c.senderIPAddresses = withoutAll(c.senderIPAddresses, splitList(o.removeSenderIp), 'senderIPAddresses');
  if (o.senderDomain) c.senderDomains = splitList(o.senderDomain);
  if (o.addSenderDomain) c.senderDomains = withAdded(c.senderDomains, splitList(o.addSenderDomain));
  if (o.removeSenderDomain) c.senderDomains = withoutAll(c.senderDomains, splitList(o.removeSenderDomain), 'senderDomains');
}

/** Apply flags to a connector (a fresh one for add, a draft copy for set). */
function applyOptions(c: InboundConnector, o: ConnectorOpts): void {
  if (o.enabled && o.disabled) throw new UsageError('--enabled and --disabled together');
  if (o.type !== undefined) c.connectorType = o.type;
  applyLists(c, o);
  if (o.tlsCertName !== undefined) {
    if (o.tlsCertName === '') delete c.tlsSenderCertificateName;
    else c.tlsSenderCertificateName = o.tlsCertName;
  }
  if (o.requireTls !== undefined) c.requireTls = o.requireTls;
  if (o.restrictDomainsToIp !== undefined) c.restrictDomainsToIPAddresses = o.restrictDomainsToIp;
  if (o.restrictDomainsToCertificate !== undefined) c.restrictDomainsToCertificate = o.restrictDomainsToCertificate;
  if (o.enabled) c.enabled = true;
  if (o.disabled) c.enabled = false;
  if (o.comment !== undefined) c.comment = o.comment;
}

function newConnector(name: string, type: ConnectorType): InboundConnector {
  return {
    name,
    connectorType: type,
    senderIPAddresses: [],
    senderDomains: ['*'],
    requireTls: false,
    restrictDomainsToIPAddresses: false,
    restrictDomainsToCertificate: false,
    enabled: true,
    comment: '',
  };
}

function registerAddSet(connector: Command, io: CliIo): void {
  commonOptions(connector.command('add'), false)
    .description('add an inbound connector (New-InboundConnector)')
    .argument('<name>', 'connector name')
    .requiredOption('--type <type>', 'ConnectorType: Partner or OnPremises', parseType)
    .action(async (name: string, opts: ConnectorOpts & { type: ConnectorType }, cmd: Command) => {
      await withContext(cmd, ({ store, dataDir }) => {
        const v = store.update(actor(), `connector add ${name}`, (draft) => {
          if (indexOfNamed(draft.inboundConnectors, name) >= 0) throw new CliError(`inbound connector "${name}" already exists`);
          const c = newConnector(name, opts.type);
          applyOptions(c, opts);
          draft.inboundConnectors.push(c);
        });
        io.out.write(`inbound connector ${name} added (${changedIn({ dataDir }, v)})\n`);
      });
    });
  setOnlyOptions(commonOptions(connector.command('set'), true))
    .description('change an inbound connector (Set-InboundConnector)')
    .argument('<name>', 'connector name')
    .action(async (name: string, opts: ConnectorOpts, cmd: Command) => {
      await withContext(cmd, ({ store, dataDir }) => {
        const v = store.update(actor(), `connector set ${name}`, (draft) => {
          applyOptions(requireNamed(draft.inboundConnectors, name, 'inbound connector'), opts);
        });
        io.out.write(`inbound connector ${name} updated (${changedIn({ dataDir }, v)})\n`);
      });
    });
}

function registerReadRemove(connector: Command, io: CliIo): void {
  connector
    .command('list')
    .description('list inbound connectors (Get-InboundConnector)')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withContext(cmd, ({ store }) => {
        printRows(store.current()?.config.inboundConnectors ?? [], COLUMNS, opts.format, io.out);
      });
    });
  connector
    .command('show')
    .description('show one inbound connector')
    .argument('<name>', 'connector name')
    .addOption(formatOption())
    .action(async (name: string, opts: { format: OutputFormat }, cmd: Command) => {
      await withContext(cmd, ({ store }) => {
        const c = requireNamed(store.current()?.config.inboundConnectors ?? [], name, 'inbound connector');
        printRecord({ ...c }, opts.format, io.out);
      });
    });
  registerRemoveNamed(connector, io, { description: 'remove an inbound connector (Remove-InboundConnector)', noun: 'inbound connector', verb: 'connector', list: (c) => c.inboundConnectors });
}

/** Register `connector add|set|list|show|remove`. */
export function registerConnector(program: Command, io: CliIo = defaultIo()): void {
  const connector = program.command('connector').description('inbound connectors: how mail from known sources is recognised (by IP or certificate)');
  registerAddSet(connector, io);
  registerReadRemove(connector, io);
}
