/**
 * @module cli/commands/route
 * `mailgate route add|set|list|show|remove`: where accepted mail goes (pickup folder, SMTP next
 * hop, MX). `route show NAME --exchange` prints the Exchange Online side (cli/exchange-front):
 * a Partner connector and the cut-over steps for the MX path, OnPremises only for relaying out.
 * `route show` also lists which route wins for a sample of domains; `route add --replace` takes a
 * domain pattern over from another route.
 * Touches: the config store (through cli/context); reads the route's client certificate file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { maskRoute, type Config, type Route } from '../../config/index.ts';
import { precedenceRows, takeOverPatterns } from '../route-precedence.ts';
import { actor, changedIn, defaultIo, indexOfNamed, requireNamed, registerRemoveNamed, withContext, type CliIo } from '../context.ts';
import { exchangeFrontScript } from '../exchange-front.ts';
import { CliError, enumParser, formatOption, parsePort, printRecord, printRows, splitList, UsageError, type OutputFormat } from '../format.ts';

const parseType = enumParser('--type', ['pickup', 'smtp', 'mx'] as const);
const parseTls = enumParser('--tls', ['none', 'may', 'encrypt', 'verify', 'secure', 'opportunistic', 'required'] as const);

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

/** Apply the --oauth2-* options; the schema then checks that the set is complete. */
function applyOAuth2(r: Route, o: RouteOpts): void {
  if (o.oauth2User === '') {
    delete r.oauth2;
    return;
  }
  const given = [o.oauth2User, o.oauth2Tenant, o.oauth2ClientId, o.oauth2SecretFile, o.oauth2TokenEndpoint].some((v) => v !== undefined);
  if (!given) return;
  const cur = r.oauth2;
  const user = o.oauth2User ?? cur?.user;
  const tenantId = o.oauth2Tenant ?? cur?.tenantId;
  const clientId = o.oauth2ClientId ?? cur?.clientId;
  if (!user || !tenantId || !clientId) throw new UsageError('OAuth2 needs --oauth2-user, --oauth2-tenant and --oauth2-client-id');
  const next: NonNullable<Route['oauth2']> = { ...cur, user, tenantId, clientId, scope: cur?.scope ?? 'https://outlook.office365.com/.default' };
  if (o.oauth2SecretFile !== undefined) {
    next.clientSecretFile = o.oauth2SecretFile;
    delete next.clientSecret;
  }
  if (o.oauth2TokenEndpoint !== undefined) next.tokenEndpoint = o.oauth2TokenEndpoint;
  r.oauth2 = next;
}

function setOrClear<K extends 'host' | 'clientCertFile' | 'clientKeyFile'>(r: Route, key: K, value: string | undefined): void {
  if (value === undefined) return;
  if (value === '') delete r[key];
  else r[key] = value;
}

function applyOptions(r: Route, o: RouteOpts): void {
  if (o.type !== undefined) r.type = o.type;
  if (o.domain) r.domains = splitList(o.domain);
  setOrClear(r, 'host', o.host);
  if (o.port !== undefined) r.port = o.port;
  if (o.tls !== undefined) r.tls = o.tls;
  setOrClear(r, 'clientCertFile', o.clientCert);
  setOrClear(r, 'clientKeyFile', o.clientKey);
  if (o.pickupDir !== undefined) r.pickupDir = o.pickupDir;
  applyOAuth2(r, o);
  if ((r.clientCertFile === undefined) !== (r.clientKeyFile === undefined)) {
    throw new UsageError('--client-cert and --client-key go together');
  }
}

/** Resolve a file named in the config: absolute, else relative to the working dir, else to the data dir. */
function resolveFile(file: string, dataDir: string): string {
  if (isAbsolute(file) || existsSync(file)) return file;
  return join(dataDir, file);
}

/** Subject CN (or first DNS SAN) of a PEM certificate file. */
export function certificateName(file: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(file));
  } catch (e) {
    throw new CliError(`cannot read certificate ${file}: ${(e as Error).message}`);
  }
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1]?.trim();
  const san = /DNS:([^,\s]+)/.exec(cert.subjectAltName ?? '')?.[1];
  const name = cn ?? san;
  if (!name) throw new CliError(`certificate ${file} has neither a subject CN nor a DNS name`);
  return name;
}

/** The Exchange Online side of a route that delivers to the tenant (see cli/exchange-front). */
export function exchangeScript(route: Route, config: Config, dataDir: string): string {
  const certName = route.clientCertFile ? certificateName(resolveFile(route.clientCertFile, dataDir)) : undefined;
  return exchangeFrontScript(route, config, certName ? { certName } : {});
}

function registerAddSet(route: Command, io: CliIo): void {
  routeOptions(route.command('add'))
    .description('add a route')
    .argument('<name>', 'route name')
    .requiredOption('--type <type>', 'pickup, smtp or mx', parseType)
    .option('--replace', 'take its domains over from the routes serving them (a route left with none is removed)')
    .action(async (name: string, opts: RouteOpts & { type: Route['type']; replace?: boolean }, cmd: Command) => {
      await withContext(cmd, async ({ store, dataDir }) => {
        let notes: string[] = [];
        const v = await store.update(actor(), `route add ${name}${opts.replace ? ' --replace' : ''}`, (draft) => {
          if (indexOfNamed(draft.routes, name) >= 0) throw new CliError(`route "${name}" already exists`);
          const r: Route = { name, domains: ['*'], type: opts.type, port: 25, tls: 'may', pickupDir: 'pickup' };
          applyOptions(r, opts);
          draft.routes.push(r);
          if (opts.replace) notes = takeOverPatterns(draft, r);
        });
        for (const n of notes) io.out.write(`${n}\n`);
        io.out.write(`route ${name} added (${changedIn({ dataDir }, v)})\n`);
      });
    });
  routeOptions(route.command('set'))
    .description('change a route')
    .argument('<name>', 'route name')
    .option('--type <type>', 'pickup, smtp or mx', parseType)
    .action(async (name: string, opts: RouteOpts, cmd: Command) => {
      await withContext(cmd, async ({ store, dataDir }) => {
        const v = await store.update(actor(), `route set ${name}`, (draft) => applyOptions(requireNamed(draft.routes, name, 'route'), opts));
        io.out.write(`route ${name} updated (${changedIn({ dataDir }, v)})\n`);
      });
    });
}

function registerReadRemove(route: Command, io: CliIo): void {
  route
    .command('list')
    .description('list routes')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withContext(cmd, async ({ store }) => printRows((await store.current())?.config.routes ?? [], COLUMNS, opts.format, io.out));
    });
  route
    .command('show')
    .description('show a route; --exchange prints the Exchange Online connector for it')
    .argument('<name>', 'route name')
    .option('--exchange', 'print the Exchange Online connectors and cut-over steps for the tenant side')
    .addOption(formatOption())
    .action(async (name: string, opts: { exchange?: boolean; format: OutputFormat }, cmd: Command) => {
      await withContext(cmd, async ({ store, dataDir }) => {
        const cfg = (await store.current())?.config;
        const r = requireNamed(cfg?.routes ?? [], name, 'route');
        if (opts.exchange && cfg) io.out.write(exchangeScript(r, cfg, dataDir));
        else if (opts.format === 'json') io.out.write(JSON.stringify({ ...maskRoute(r), serves: cfg ? precedenceRows(cfg, name) : [] }, null, 2) + '\n');
        else {
          printRecord({ ...maskRoute(r) }, opts.format, io.out);
          io.out.write('\n');
          if (cfg && opts.format === 'table') printRows(precedenceRows(cfg, name), ['domain', 'route', 'wins'], opts.format, io.out);
        }
      });
    });
  registerRemoveNamed(route, io, { description: 'remove a route', noun: 'route', verb: 'route', list: (c) => c.routes });
}

/** Register `route add|set|list|show|remove`. */
export function registerRoute(program: Command, io: CliIo = defaultIo()): void {
  const route = program.command('route').description('routes: where accepted mail goes (pickup folder, SMTP next hop, MX)');
  registerAddSet(route, io);
  registerReadRemove(route, io);
}
