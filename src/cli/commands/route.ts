/**
 * @module cli/commands/route
 * `mailgate route add|set|list|show|remove`: where accepted mail goes (pickup folder, SMTP next
 * hop, MX). `route show NAME --exchange` prints the Exchange Online side (ops/exchange-front):
 * a Partner connector and the cut-over steps for the MX path, OnPremises only for relaying out.
 * `route show` also lists which route wins for a sample of domains; `route add --replace` takes a
 * domain pattern over from another route.
 * The logic is ops/routes'; this file maps flags to a change and prints.
 * Touches: the config store and the route's client certificate file (through ops/routes).
 */
import type { Command } from 'commander';
import type { Route } from '../../config/index.ts';
import { addRoute, listRoutes, removeRoute, ROUTE_TLS, ROUTE_TYPES, routeExchangeScript, setRoute, showRoute, type RouteChange } from '../../ops/routes.ts';
import { changedIn, defaultIo, withOps, type CliIo } from '../context.ts';
import { enumParser, formatOption, parsePort, printRecord, printRows, splitList, type OutputFormat } from '../format.ts';
import { flagsChecked } from '../ops-context.ts';

const parseType = enumParser('--type', ROUTE_TYPES);
const parseTls = enumParser('--tls', ROUTE_TLS);

interface RouteOpts {
  type?: Route['type'];
  domain?: string[];
  host?: string;
  port?: number;
  tls?: Route['tls'];
  clientCert?: string;
  clientKey?: string;
  pickupDir?: string;
  oauth2User?: string;
  oauth2Tenant?: string;
  oauth2ClientId?: string;
  oauth2SecretFile?: string;
  oauth2TokenEndpoint?: string;
}

const COLUMNS = ['name', 'type', 'domains', 'host', 'port', 'tls', 'clientCertFile', 'pickupDir'];

function routeOptions(cmd: Command): Command {
  return cmd
    .option('--domain <domain...>', 'recipient domains this route serves ("*" = all; most precise match wins)')
    .option('--host <host>', 'smtp: next hop host')
    .option('--port <port>', 'smtp/mx: port', parsePort)
    .option('--tls <level>', 'TLS toward the next hop: none, may, encrypt, verify or secure (verify/secure check the certificate; old names: opportunistic = may, required = verify)', parseTls)
    .option('--client-cert <file>', 'PEM certificate to present to the next hop (with --client-key)')
    .option('--client-key <file>', 'PEM key for --client-cert')
    .option('--pickup-dir <dir>', 'pickup: folder under the data dir')
    .option('--oauth2-user <mailbox>', 'smtp: submit with XOAUTH2 as this mailbox ("" removes OAuth2)')
    .option('--oauth2-tenant <id>', 'OAuth2: Microsoft Entra tenant id')
    .option('--oauth2-client-id <id>', 'OAuth2: application (client) id')
    .option('--oauth2-secret-file <file>', 'OAuth2: file holding the client secret')
    .option('--oauth2-token-endpoint <url>', 'OAuth2: token endpoint (default: the tenant\'s Microsoft identity platform v2.0 endpoint)');
}

/** The ops change the flags ask for. */
function toChange(o: RouteOpts): RouteChange {
  const c: RouteChange = {};
  if (o.type !== undefined) c.type = o.type;
  if (o.domain) c.domains = splitList(o.domain);
  if (o.host !== undefined) c.host = o.host;
  if (o.port !== undefined) c.port = o.port;
  if (o.tls !== undefined) c.tls = o.tls;
  if (o.clientCert !== undefined) c.clientCertFile = o.clientCert;
  if (o.clientKey !== undefined) c.clientKeyFile = o.clientKey;
  if (o.pickupDir !== undefined) c.pickupDir = o.pickupDir;
  if (o.oauth2User !== undefined) c.oauth2User = o.oauth2User;
  if (o.oauth2Tenant !== undefined) c.oauth2TenantId = o.oauth2Tenant;
  if (o.oauth2ClientId !== undefined) c.oauth2ClientId = o.oauth2ClientId;
  if (o.oauth2SecretFile !== undefined) c.oauth2ClientSecretFile = o.oauth2SecretFile;
  if (o.oauth2TokenEndpoint !== undefined) c.oauth2TokenEndpoint = o.oauth2TokenEndpoint;
  return c;
}

function registerAddSet(route: Command, io: CliIo): void {
  routeOptions(route.command('add'))
    .description('add a route')
    .argument('<name>', 'route name')
    .requiredOption('--type <type>', 'pickup, smtp or mx', parseType)
    .option('--replace', 'take its domains over from the routes serving them (a route left with none is removed)')
    .action(async (name: string, opts: RouteOpts & { type: Route['type']; replace?: boolean }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version, notes } = await flagsChecked(() => addRoute(ctx, name, { ...toChange(opts), type: opts.type, replace: opts.replace }));
        for (const n of notes) io.out.write(`${n}\n`);
        io.out.write(`route ${name} added (${changedIn(ctx, version)})\n`);
      });
    });
  routeOptions(route.command('set'))
    .description('change a route')
    .argument('<name>', 'route name')
    .option('--type <type>', 'pickup, smtp or mx', parseType)
    .action(async (name: string, opts: RouteOpts, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version } = await flagsChecked(() => setRoute(ctx, name, toChange(opts)));
        io.out.write(`route ${name} updated (${changedIn(ctx, version)})\n`);
      });
    });
}

function registerReadRemove(route: Command, io: CliIo): void {
  route
    .command('list')
    .description('list routes')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => printRows(await listRoutes(ctx), COLUMNS, opts.format, io.out));
    });
  route
    .command('show')
    .description('show a route; --exchange prints the Exchange Online connector for it')
    .argument('<name>', 'route name')
    .option('--exchange', 'print the Exchange Online connectors and cut-over steps for the tenant side')
    .addOption(formatOption())
    .action(async (name: string, opts: { exchange?: boolean; format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        if (opts.exchange) {
          io.out.write((await routeExchangeScript(ctx, name)).script);
          return;
        }
        const { serves, ...r } = await showRoute(ctx, name);
        if (opts.format === 'json') io.out.write(JSON.stringify({ ...r, serves }, null, 2) + '\n');
        else {
          printRecord({ ...r }, opts.format, io.out);
          io.out.write('\n');
          if (opts.format === 'table') printRows(serves, ['domain', 'route', 'wins'], opts.format, io.out);
        }
      });
    });
  route
    .command('remove')
    .description('remove a route')
    .argument('<name>', 'route name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version } = await removeRoute(ctx, name);
        io.out.write(`route ${name} removed (${changedIn(ctx, version)})\n`);
      });
    });
}

/** Register `route add|set|list|show|remove`. */
export function registerRoute(program: Command, io: CliIo = defaultIo()): void {
  const route = program.command('route').description('routes: where accepted mail goes (pickup folder, SMTP next hop, MX)');
  registerAddSet(route, io);
  registerReadRemove(route, io);
}
