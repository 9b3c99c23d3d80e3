/**
 * @module auth/authenticate
 * Evaluates SPF (MAIL FROM, and HELO when it is a domain name), the DKIM signatures (at most
 * `maxDkimSignatures`, From-aligned first: auth/dkim-limit; the rest are reported unchecked), DMARC and
 * ARC for one message with mailauth 4.13.3's parts (dkimVerify, spf, arc, dmarc, composed as its
 * authenticate() does), through the resolver it is given, and returns AuthFacts. SPF comes from
 * auth/spf (cached per DNS TTL when deps carry a cache), either started earlier by the caller
 * (input.spf, from the first accepted RCPT) or here, in parallel with DKIM. The message is streamed
 * into mailauth (a Readable is piped, never buffered whole here). It NEVER throws and never hangs
 * past `deadlineMs`: any failure yields temperror facts.
 * It evaluates; it does not decide (policy/ does, from these facts).
 * Touches: DNS only, through deps.resolver.
 * RFCs: 7208 (SPF; §2.3 HELO, §2.4 null reverse-path → postmaster@HELO), 6376 (DKIM), 7489 (DMARC),
 * 8617 (ARC), 8601 (Authentication-Results).
 */
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { arc as mailauthArc } from 'mailauth';
import type { ARCData, ARCResult, DNSResolver } from 'mailauth';
import type { AuthFacts, SpfFacts } from './types.ts';
import { arcFacts, dkimFacts, dmarcFacts, spfFacts } from './facts.ts';
import type { MaResult } from './facts.ts';
import { compauth, spoofSuspect } from './compauth.ts';
import { renderAuthResults } from './auth-results.ts';
import { checkSpf, heloDomain, type SpfDeps, type SpfOutcome } from './spf.ts';
import { checkDmarc, type DmarcCache } from './dmarc.ts';
import { verifyUnsignedHeaderBlock } from './dkim-headers.ts';
import { dkimVerifyLimited, type UncheckedSignature } from './dkim-limit.ts';

export interface AuthInput {
  /** The message as received (headers + body), streamed. */
  message: Readable | Buffer;
  clientIp: string;
  helo?: string | undefined;
  /** The MAIL FROM address without angle brackets; '' for the null reverse-path. */
  mailFrom: string;
  /** Our authserv-id (the gateway's host name). */
  mta: string;
  /** True for the organisation's accepted domains: selects compauth 010/601 over 000/001. */
  isAcceptedDomain?: (domain: string) => boolean;
  /**
   * `message` is the header block of a message with no DKIM-Signature and no ARC field (smtp/auth-run):
   * the DKIM step then parses it directly (auth/dkim-headers) instead of streaming it.
   */
  unsignedHeaderBlock?: boolean | undefined;
  /** SPF already started for this transaction (checkSpf with the same identities); else evaluated here. */
  spf?: Promise<SpfOutcome> | undefined;
}

export interface AuthDeps extends Partial<Pick<SpfDeps, 'tracked' | 'cache'>> {
  /** DMARC result cache (auth/dmarc); used with `tracked`. */
  dmarcCache?: DmarcCache | undefined;
  /** The clock of the result caches (the resolver's; default Date.now). */
  now?: () => number;
  resolver: (name: string, rrtype: string) => Promise<unknown>;
  /** Upper bound for the whole evaluation, default 20000 ms; beyond it the facts are temperror. */
  deadlineMs?: number;
  /** Check SPF for the HELO identity too (default true). */
  checkHelo?: boolean;
  /** Skip ARC validation (default false). */
  disableArc?: boolean;
  /** Minimum DKIM/ARC key size in bits (mailauth default 1024). */
  minBitLength?: number;
  /** DKIM signatures verified per message, From-aligned first (default 5; auth/dkim-limit). */
  maxDkimSignatures?: number;
}

/** The default cap on DKIM signatures verified per message (authentication.maxDkimSignatures). */
export const DEFAULT_MAX_DKIM_SIGNATURES = 5;

const domainOf = (addr: string): string => (addr.includes('@') ? (addr.split('@').pop() ?? '') : addr).toLowerCase();

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

/**
 * DKIM, ARC and DMARC as mailauth's authenticate() composes them (BIMI off), with SPF from
 * checkSpf (possibly started earlier, possibly cached) instead of evaluated again here, and without
 * the header text mailauth would build (auth-results.ts renders ours).
 */
async function evaluate(
  input: AuthInput,
  deps: AuthDeps,
  resolver: DNSResolver,
  mailFrom: string,
  countLookups: (n: number) => void,
): Promise<{ r: MaResult; spf: SpfOutcome; notChecked: UncheckedSignature[] }> {
  const spfP = (
    input.spf ??
    checkSpf(
      { clientIp: input.clientIp, helo: input.helo, mailFrom, mta: input.mta },
      { resolver: deps.resolver, ...(deps.tracked ? { tracked: deps.tracked } : {}), ...(deps.cache ? { cache: deps.cache } : {}), ...(deps.now ? { now: deps.now } : {}), checkHelo: deps.checkHelo ?? true },
    )
  ).then((o) => {
    countLookups(o.lookups);
    return o;
  });
  const minBits = deps.minBitLength ? { minBitLength: deps.minBitLength } : {};
  const dkimOptions = { resolver, ...(mailFrom ? { sender: mailFrom } : {}), ...minBits };
  const dkimP =
    input.unsignedHeaderBlock && Buffer.isBuffer(input.message)
      ? verifyUnsignedHeaderBlock(input.message, dkimOptions).then((result) => ({ result, notChecked: [] }))
      : dkimVerifyLimited(input.message, dkimOptions, deps.maxDkimSignatures ?? DEFAULT_MAX_DKIM_SIGNATURES);
  const [{ result: dkim, notChecked }, spf] = await Promise.all([dkimP, spfP]);
  const arc: ARCResult | undefined = deps.disableArc ? undefined : await mailauthArc(dkim.arc as unknown as ARCData, { resolver, ...minBits });
  const spfPass = spf.mailFrom.status?.result === 'pass' && spf.mailFrom.domain ? [spf.mailFrom.domain] : [];
  const dmarc = dkim.headerFrom
    ? await checkDmarc(
        {
          headerFrom: dkim.headerFrom,
          spfDomains: spfPass,
          // mailauth passes the aligned domain (or false) as `aligned`; its .d.ts says boolean.
          dkimDomains: (dkim.results ?? [])
            .filter((x) => x.status.result === 'pass')
            .map((x) => ({ id: x.id, domain: x.signingDomain, aligned: x.status.aligned as unknown as boolean, underSized: x.status.underSized as unknown as boolean })),
          arcResult: arc,
        },
        { resolver: deps.resolver, tracked: deps.tracked, cache: deps.dmarcCache, ...(deps.now ? { now: deps.now } : {}) },
      )
    : undefined;
  if (dmarc) countLookups(dmarc.lookups);
  return { r: { spf: spf.mailFrom, dkim, dmarc: dmarc ? dmarc.result : false, arc: arc ?? false } as unknown as MaResult, spf, notChecked };
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
  // SPF and DMARC count their own lookups (a result may come from the SPF or DMARC cache, or from
  // the transaction, with the count it was made with); they count even when the rest fails or the
  // deadline passes, as long as that part itself finished.
  let partLookups = 0;
  const countLookups = (n: number): void => {
    partLookups += n;
  };
  try {
    const { r, spf: spfOut, notChecked } = await withDeadline(evaluate(input, deps, resolver, mailFrom, countLookups), deps.deadlineMs ?? 20000);
    if (spfOut.error) throw new Error(spfOut.error);
    const spf = spfFacts(r.spf, domainOf(mailFrom) || hDomain || '');
    const dkim = dkimFacts(r.dkim?.results);
    // A HELO result started by the caller is dropped when these deps say not to check HELO.
    const heloOut = deps.checkHelo === false ? undefined : spfOut.helo;
    const heloSpf: SpfFacts | undefined = heloOut ? spfFacts(heloOut, hDomain ?? '') : undefined;
    const receivedSpf = r.spf && r.spf.header ? `${r.spf.header.replace(/\r?\n?$/, '')}\r\n` : undefined;
    return finish(input, {
      spf,
      ...(heloSpf ? { heloSpf } : {}),
      dkim,
      ...(notChecked.length ? { dkimNotChecked: notChecked } : {}),
      dmarc: dmarcFacts(r, spf, dkim),
      arc: arcFacts(r.arc),
      ...(receivedSpf ? { receivedSpfHeader: receivedSpf } : {}),
      dnsLookups: dnsLookups + partLookups,
      elapsedMs: performance.now() - started,
    });
  } catch (err) {
    return temperrorFacts(input, err instanceof Error ? err.message : String(err), dnsLookups + partLookups, performance.now() - started);
  }
}
