/**
 * @module deliver/smtp
 * Delivery to an SMTP next hop (an `smtp` route's host, or each MX of an `mx` route) with
 * nodemailer's pooled client: one pool per (route, host, port, TLS policy, client certificate),
 * cached and reused, sending the raw message stream with an explicit envelope (null sender
 * supported). The client certificate from the route's files is how Exchange Online matches
 * mailgate to an inbound connector by certificate. The TLS level (tls-policy.ts) decides whether
 * the next hop's certificate is verified; a failed verification defers 4.7.5 and sends nothing.
 * On an `mx` route the recipient domain's MTA-STS policy (mta-sts.ts) drops unlisted MX hosts
 * and makes TLS verified (enforce), or is only logged (testing). An `oauth2` route submits with
 * XOAUTH2 (deliver/oauth2). nodemailer's own requeue is off
 * (`maxRequeues: 0`): a requeued raw stream would be half-consumed, and the queue owns retries.
 * Touches: outbound TCP to next hops; reads the route's certificate and CA files.
 * RFCs: 5321 (SMTP client, §5.1 MX walk), 3207 (STARTTLS), 1869/1870, 3463 (enhanced codes),
 * 8461 (MTA-STS), 6125 (server identity).
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createTransport } from 'nodemailer';
import { normalizeDomain, parseAddress } from '../core/address.ts';
import type { Route } from '../config/schema.ts';
import type { DeliveryRequest, RecipientOutcome } from '../queue/contract.ts';
import { planMx, type MxResolver } from './mx.ts';
import { MtaStsCache, mxAllowed, type MtaStsDeps } from './mta-sts.ts';
import { isCertificateError, targetKey, tlsOptions, tlsTarget, verificationFailure, verifies, type TlsTarget } from './tls-policy.ts';
import { renewOn535, TokenCache } from './oauth2.ts';
import { outcomesFromError, outcomesFromInfo, type HopResult } from './smtp-outcome.ts';

export interface SmtpTimeouts {
  /** TCP connect, ms (default 30 s, Postfix smtp_connect_timeout). */
  connection: number;
  /** Waiting for the greeting, ms (default 60 s). */
  greeting: number;
  /** Socket inactivity, ms (default 5 min, RFC 5321 §4.5.3.2). */
  socket: number;
}

export const defaultTimeouts: SmtpTimeouts = { connection: 30_000, greeting: 60_000, socket: 300_000 };

/** Maps a next-hop name to the address actually dialled (identity by default; a test seam for MX walks). */
export type ConnectTo = (host: string, port: number) => { host: string; port: number };

export interface SmtpClientOptions {
  /** Our name in EHLO. */
  hostname: string;
  timeouts?: Partial<SmtpTimeouts>;
  resolveMx: MxResolver;
  connectTo?: ConnectTo;
  /** Most pools kept open at once; the oldest is closed beyond this (default 100). */
  maxPools?: number;
  /** MTA-STS for mx routes (DNS TXT + HTTPS fetcher); undefined = not checked. */
  mtaSts?: MtaStsDeps | undefined;
  /** OAuth 2.0 tokens for routes with `oauth2` (default: a cache of this client's own). */
  tokens?: TokenCache;
}

/** One pooled next-hop client: sends a raw message with an explicit envelope. */
interface PoolTransport {
  send(envelope: { from: string; to: string[] }, raw: Readable): Promise<unknown>;
  close(): void;
}

/**
 * The shape nodemailer hands its transports (a MailMessage: `data` + a MimeNode `message`), for a
 * raw message with an explicit envelope. We call the pool transport with it directly instead of
 * going through Mail.sendMail, whose pipeline (compiling a MimeNode around the raw stream, making
 * a Message-ID, header normalisation) does nothing for a relay but cost ~6 % of the queue owner's
 * CPU under load (bench/). It covers what nodemailer 10.6's SMTPPool and PoolResource read.
 */
export interface RawTransporter {
  send(mail: RawMail, cb: (err: Error | null, info: unknown) => void): unknown;
}
interface RawMail {
  data: { envelope: { from: string; to: string[] } };
  message: {
    getEnvelope(): { from: string; to: string[] };
    messageId(): string;
    getHeader(name: string): string;
    createReadStream(): Readable;
  };
}

/**
 * An envelope address as it goes out: an internationalised domain becomes its A-label when the
 * local part is ASCII (RFC 5890), so a next hop without SMTPUTF8 still takes it — what
 * Mail.sendMail's envelope normalisation did. A UTF-8 local part needs SMTPUTF8 either way.
 */
export function envelopeAddress(addr: string): string {
  const at = addr.lastIndexOf('@');
  if (at < 0 || !/[^\x00-\x7f]/.test(addr.slice(at + 1)) || /[^\x00-\x7f]/.test(addr.slice(0, at))) return addr;
  const ascii = normalizeDomain(addr.slice(at + 1));
  return ascii ? `${addr.slice(0, at + 1)}${ascii}` : addr;
}

/** A raw message and its envelope as the pool transport reads them (bench/relay-ceiling.ts sends the same). */
export function rawMail(given: { from: string; to: string[] }, raw: Readable): RawMail {
  const envelope = { from: envelopeAddress(given.from), to: given.to.map(envelopeAddress) };
  return {
    data: { envelope },
    message: {
      getEnvelope: () => ({ from: envelope.from, to: [...envelope.to] }),
      messageId: () => '',
      getHeader: () => '',
      createReadStream: () => raw,
    },
  };
}

export interface SmtpClient {
  /** Deliver to an `smtp` route's host. */
  deliverSmtp(route: Route, req: DeliveryRequest, recipients: readonly string[]): Promise<RecipientOutcome[]>;
  /** Deliver to the MX hosts of each recipient domain of an `mx` route. */
  deliverMx(route: Route, req: DeliveryRequest, recipients: readonly string[]): Promise<RecipientOutcome[]>;
  /** Close every pool (shutdown). */
  closeAll(): Promise<void>;
}

/** Read the client certificate and key of a route, when it names them. */
async function clientCert(route: Route): Promise<{ cert?: Buffer; key?: Buffer }> {
  if (!route.clientCertFile || !route.clientKeyFile) return {};
  const [cert, key] = await Promise.all([readFile(route.clientCertFile), readFile(route.clientKeyFile)]);
  return { cert, key };
}

/** Build one pooled transport for a route, host and TLS target. */
async function buildTransport(route: Route, host: string, port: number, target: TlsTarget, opts: SmtpClientOptions, tokens: TokenCache): Promise<PoolTransport> {
  const t = { ...defaultTimeouts, ...opts.timeouts };
  const dial = opts.connectTo ? opts.connectTo(host, port) : { host, port };
  const tls = await tlsOptions(route, target);
  const mailer = createTransport({
    pool: true,
    maxConnections: 5,
    maxMessages: 1000, // a new session (connect, EHLO, STARTTLS) every 1,000 messages, not every 100
    maxRequeues: 0,
    host: dial.host,
    port: dial.port,
    secure: false,
    ignoreTLS: tls.ignoreTLS,
    requireTLS: tls.requireTLS,
    opportunisticTLS: tls.opportunisticTLS,
    tls: { ...tls.tls, ...(await clientCert(route)) },
    name: opts.hostname,
    connectionTimeout: t.connection,
    greetingTimeout: t.greeting,
    socketTimeout: t.socket,
    logger: false,
    ...(route.oauth2 ? { auth: tokens.nodemailerAuth(route.oauth2) } : {}),
  });
  const transporter = mailer.transporter as unknown as RawTransporter;
  return {
    send: (envelope, raw) =>
      new Promise((resolve, reject) => {
        transporter.send(rawMail(envelope, raw), (err, info) => (err ? reject(err) : resolve(info)));
      }),
    close: () => mailer.close(),
  };
}

/** A cache of pooled transports keyed by everything that shapes a connection. */
class PoolCache {
  private readonly pools = new Map<string, Promise<PoolTransport>>();
  readonly tokens: TokenCache;
  constructor(private readonly opts: SmtpClientOptions) {
    this.tokens = opts.tokens ?? new TokenCache();
  }

  get(route: Route, host: string, port: number, target: TlsTarget): Promise<PoolTransport> {
    const k = JSON.stringify([route.name, host, port, targetKey(target), route.caFile ?? '', route.clientCertFile ?? '', route.clientKeyFile ?? '', route.oauth2 ?? null]);
    const hit = this.pools.get(k);
    if (hit) {
      this.pools.delete(k);
      this.pools.set(k, hit); // most recently used last
      return hit;
    }
    const made = buildTransport(route, host, port, target, this.opts, this.tokens);
    made.catch(() => this.pools.delete(k)); // a failed build (unreadable certificate) is not cached
    this.pools.set(k, made);
    this.evict();
    return made;
  }

  private evict(): void {
    const max = this.opts.maxPools ?? 100;
    for (const [k, oldest] of this.pools) {
      if (this.pools.size <= max) break;
      this.pools.delete(k);
      oldest.then((t) => t.close(), () => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.then((t) => t.close(), () => undefined)));
  }
}

/** A host to try and the TLS it needs. */
interface Hop {
  host: string;
  target: TlsTarget;
}

/** A failed certificate check: every recipient deferred 4.7.5 with the reason; the next MX may do better. */
function tlsFailed(result: HopResult, target: TlsTarget, err: unknown): HopResult {
  if (!verifies(target.level) || !isCertificateError(err)) return result;
  const e = err as { message?: unknown };
  const reply = verificationFailure(target, String(e.message));
  return { outcomes: result.outcomes.map((o) => ({ ...o, status: 'deferred', code: undefined, enhanced: '4.7.5', reply })), hopFailed: true };
}

/** One SMTP transaction with one host. */
async function sendToHost(cache: PoolCache, route: Route, hop: Hop, req: DeliveryRequest, recipients: readonly string[]): Promise<HopResult> {
  const { host, target } = hop;
  const nextHop = `smtp:${host}:${route.port}`;
  let transport: PoolTransport;
  try {
    transport = await cache.get(route, host, route.port, target);
  } catch (err) {
    const reply = `cannot load the client certificate or CA file of route ${route.name}: ${err instanceof Error ? err.message : String(err)}`;
    return { outcomes: recipients.map((rcpt) => ({ rcpt, status: 'deferred', enhanced: '4.7.5', reply, nextHop })), hopFailed: false };
  }
  let raw: Readable | undefined;
  try {
    const info = await renewOn535(cache.tokens, route.oauth2, () => {
      raw?.destroy();
      raw = req.openMessage();
      return transport.send({ from: req.mailFrom, to: [...recipients] }, raw);
    });
    return outcomesFromInfo(recipients, info, nextHop);
  } catch (err) {
    return tlsFailed(outcomesFromError(recipients, err, nextHop), target, err);
  } finally {
    raw?.destroy(); // a spool stream never read (connection refused) would otherwise keep its fd open
  }
}

/** Try hosts in order until one gets past the session stage; the last host's outcomes otherwise. */
async function walkHosts(cache: PoolCache, route: Route, hops: readonly Hop[], req: DeliveryRequest, recipients: readonly string[]): Promise<RecipientOutcome[]> {
  let last: HopResult | undefined;
  for (const hop of hops) {
    last = await sendToHost(cache, route, hop, req, recipients);
    if (!last.hopFailed) break;
  }
  return last?.outcomes ?? recipients.map((rcpt) => ({ rcpt, status: 'deferred', enhanced: '4.4.4', reply: 'no host to try' }));
}

/** Split recipients by domain (one MX lookup and transaction per domain). */
function byDomain(recipients: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const rcpt of recipients) {
    const domain = parseAddress(rcpt).domain;
    const list = map.get(domain);
    if (list) list.push(rcpt);
    else map.set(domain, [rcpt]);
  }
  return map;
}

/**
 * The MX hosts to try with their TLS targets, after the domain's MTA-STS policy: enforce keeps
 * only listed hosts and verifies them (RFC 8461 §4.2, at least `verify`); testing logs and goes
 * on as the route says. A string when no host may be used (§5: no delivery).
 */
async function mxHops(route: Route, domain: string, hosts: readonly string[], sts: MtaStsCache | undefined, deps: MtaStsDeps | undefined): Promise<Hop[] | string> {
  const plain = hosts.map((host) => ({ host, target: tlsTarget(route, host, domain) }));
  if (!sts || route.mtaSts === false) return plain;
  const policy = await sts.policyFor(domain);
  if (!policy || policy.mode === 'none') return plain;
  const allowed = plain.filter((h) => mxAllowed(h.host, policy));
  if (policy.mode === 'testing') {
    if (allowed.length < plain.length) deps?.warn?.('MTA-STS testing: MX host not in policy', { domain, hosts: plain.filter((h) => !allowed.includes(h)).map((h) => h.host) });
    return plain;
  }
  if (allowed.length === 0) return `MTA-STS policy of ${domain} (enforce) lists none of its MX hosts (${hosts.join(', ')}); not delivered`;
  return allowed.map((h) => (verifies(h.target.level) ? h : { host: h.host, target: { ...h.target, level: 'verify' as const } }));
}

/** Create the SMTP client (pool cache + smtp and mx delivery). */
export function createSmtpClient(opts: SmtpClientOptions): SmtpClient {
  const cache = new PoolCache(opts);
  const sts = opts.mtaSts ? new MtaStsCache(opts.mtaSts) : undefined;
  const deliverDomain = async (route: Route, domain: string, req: DeliveryRequest, rcpts: string[]): Promise<RecipientOutcome[]> => {
    const plan = await planMx(domain, opts.resolveMx);
    if (plan.kind !== 'hosts') return rcpts.map((rcpt) => ({ rcpt, status: plan.kind, enhanced: plan.enhanced, reply: plan.reply }));
    const hops = await mxHops(route, domain, plan.hosts, sts, opts.mtaSts);
    if (typeof hops === 'string') return rcpts.map((rcpt) => ({ rcpt, status: 'deferred', enhanced: '4.7.5', reply: hops }));
    return walkHosts(cache, route, hops, req, rcpts);
  };
  return {
    async deliverSmtp(route, req, recipients) {
      if (!route.host) return recipients.map((rcpt) => ({ rcpt, status: 'deferred', enhanced: '4.3.5', reply: `route ${route.name} has no host` }));
      return walkHosts(cache, route, [{ host: route.host, target: tlsTarget(route, route.host) }], req, recipients);
    },
    async deliverMx(route, req, recipients) {
      const groups = [...byDomain(recipients)];
      const results = await Promise.all(groups.map(([domain, rcpts]) => deliverDomain(route, domain, req, rcpts)));
      return results.flat();
    },
    closeAll: () => cache.closeAll(),
  };
}
