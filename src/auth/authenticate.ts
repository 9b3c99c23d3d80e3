/**
 * @module auth/authenticate
 * Evaluates SPF (MAIL FROM, and HELO when it is a domain name), every DKIM signature, DMARC and
 * ARC for one message with mailauth 4.13.3, through the resolver it is given, and returns
 * AuthFacts. The message is streamed into mailauth (a Readable is piped, never buffered whole
 * here). It NEVER throws and never hangs past `deadlineMs`: any failure yields temperror facts.
 * It evaluates; it does not decide (policy/ does, from these facts).
 * Touches: DNS only, through deps.resolver.
 * RFCs: 7208 (SPF; §2.3 HELO, §2.4 null reverse-path → postmaster@HELO), 6376 (DKIM), 7489 (DMARC),
 * 8617 (ARC), 8601 (Authentication-Results).
 */
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { isIP } from 'node:net';
import { authenticate as mailauthAuthenticate, spf as mailauthSpf } from 'mailauth';
import type { DNSResolver } from 'mailauth';
import type { AuthFacts, SpfFacts } from './types.ts';
import { arcFacts, dkimFacts, dmarcFacts, spfFacts } from './facts.ts';
import type { MaResult, MaSpf } from './facts.ts';
import { compauth, spoofSuspect } from './compauth.ts';
import { renderAuthResults } from './auth-results.ts';

export interface AuthInput {
  /** The message as received (headers + body), streamed. */
  message: Readable | Buffer;
  clientIp: string;
  helo?: string;
  /** The MAIL FROM address without angle brackets; '' for the null reverse-path. */
  mailFrom: string;
  /** Our authserv-id (the gateway's host name). */
  mta: string;
  /** True for the organisation's accepted domains: selects compauth 010/601 over 000/001. */
  isAcceptedDomain?: (domain: string) => boolean;
}

export interface AuthDeps {
  resolver: (name: string, rrtype: string) => Promise<unknown>;
  /** Upper bound for the whole evaluation, default 20000 ms; beyond it the facts are temperror. */
  deadlineMs?: number;
  /** Check SPF for the HELO identity too (default true). */
  checkHelo?: boolean;
  /** Skip ARC validation (default false). */
  disableArc?: boolean;
  /** Minimum DKIM/ARC key size in bits (mailauth default 1024). */
  minBitLength?: number;
}

const domainOf = (addr: string): string => (addr.includes('@') ? (addr.split('@').pop() ?? '') : addr).toLowerCase();

/** HELO names worth an SPF check: dotted domain names, not address literals. */
function heloDomain(helo: string | undefined): string | undefined {
  if (!helo || helo.startsWith('[') || isIP(helo)) return undefined;
  return /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?$/.test(helo) ? helo.replace(/\.$/, '') : undefined;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`authentication exceeded ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function finish(input: AuthInput, partial: Omit<AuthFacts, 'authResultsHeader' | 'compauth' | 'spoofSuspect'>): AuthFacts {
  const withVerdict = {
    ...partial,
    compauth: compauth(partial, input.isAcceptedDomain),
    spoofSuspect: spoofSuspect(partial),
  };
  return { ...withVerdict, authResultsHeader: renderAuthResults(input.mta, withVerdict, { clientIp: input.clientIp }) };
}

/** The facts when nothing could be evaluated. */
export function temperrorFacts(input: AuthInput, error: string, dnsLookups: number, elapsedMs: number): AuthFacts {
  const domain = domainOf(input.mailFrom) || heloDomain(input.helo) || '';
  return finish(input, {
    spf: { result: 'temperror', domain, comment: error },
    dkim: [],
    dmarc: { result: 'temperror', alignment: { spf: false, dkim: false }, comment: error },
    arc: { result: 'none' },
    dnsLookups,
    elapsedMs,
    error,
  });
}

/** Evaluates one message. Never throws. */
export async function authenticate(input: AuthInput, deps: AuthDeps): Promise<AuthFacts> {
  const started = performance.now();
  let dnsLookups = 0;
  // mailauth's DNSResolver type is narrower than what it really accepts (MX objects too).
  const resolver = ((name: string, rrtype: string) => {
    dnsLookups++;
    return deps.resolver(name, rrtype);
  }) as DNSResolver;
  const mailFrom = input.mailFrom.replace(/^<|>$/g, '');
  const hDomain = heloDomain(input.helo);
  try {
    const main = mailauthAuthenticate(input.message, {
      ip: input.clientIp,
      ...(input.helo ? { helo: input.helo } : {}),
      ...(mailFrom ? { sender: mailFrom } : {}),
      mta: input.mta,
      resolver,
      disableBimi: true,
      disableArc: deps.disableArc ?? false,
      ...(deps.minBitLength ? { minBitLength: deps.minBitLength } : {}),
    });
    // With an empty MAIL FROM, mailauth's SPF already is the HELO check (postmaster@HELO).
    const helo: Promise<MaSpf | undefined> =
      (deps.checkHelo ?? true) && hDomain && mailFrom
        ? mailauthSpf({ sender: `postmaster@${hDomain}`, ip: input.clientIp, helo: hDomain, mta: input.mta, resolver })
        : Promise.resolve(undefined);
    const [res, heloRes] = await withDeadline(Promise.all([main, helo]), deps.deadlineMs ?? 20000);
    const r = res as unknown as MaResult;
    const spf = spfFacts(r.spf, domainOf(mailFrom) || hDomain || '');
    const dkim = dkimFacts(r.dkim?.results);
    const heloSpf: SpfFacts | undefined = heloRes ? spfFacts(heloRes, hDomain ?? '') : undefined;
    const receivedSpf = r.spf && r.spf.header ? `${r.spf.header.replace(/\r?\n?$/, '')}\r\n` : undefined;
    return finish(input, {
      spf,
      ...(heloSpf ? { heloSpf } : {}),
      dkim,
      dmarc: dmarcFacts(r, spf, dkim),
      arc: arcFacts(r.arc),
      ...(receivedSpf ? { receivedSpfHeader: receivedSpf } : {}),
      dnsLookups,
      elapsedMs: performance.now() - started,
    });
  } catch (err) {
    return temperrorFacts(input, err instanceof Error ? err.message : String(err), dnsLookups, performance.now() - started);
  }
}
