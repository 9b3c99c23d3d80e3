/**
 * @module auth/what-if
 * SPF, DKIM and DMARC for `mailgate policy test`, with no message: SPF for the client IP, HELO
 * and MAIL FROM is evaluated live (auth/spf, through the resolver given — the gateway's own, so
 * MAILGATE_DNS_SERVERS and dns.servers apply), DMARC for the header From domain live with that
 * SPF result and the DKIM result (auth/dmarc, mailauth), exactly as the gateway composes them. Any
 * of the three can be stated instead (`--spf fail`); a stated DMARC result takes its policy from
 * `dmarcPolicy`, else from the domain's live record. With no message there is no signature:
 * DKIM is `none` unless stated (`pass` = an aligned signature of the header From domain).
 * Touches: DNS only, through the resolver it is given.
 * RFCs: 7208, 7489 (§3.1 alignment, §6.6.3 policy discovery).
 */
import { checkDmarc } from './dmarc.ts';
import { dmarcFacts, spfFacts } from './facts.ts';
import type { DnsResolveFn } from './resolver.ts';
import { checkSpf, type SpfOutcome } from './spf.ts';
import type { DkimSignatureFacts, DmarcFacts, DmarcPolicy, SpfFacts } from './types.ts';

export interface WhatIfInput {
  clientIp: string;
  helo?: string | undefined;
  mailFrom: string;
  /** The header From address (default: the MAIL FROM). */
  headerFrom: string;
  mta: string;
  spf?: string | undefined;
  dkim?: string | undefined;
  dmarc?: DmarcFacts['result'] | undefined;
  dmarcPolicy?: DmarcPolicy | undefined;
}

export interface WhatIfAuth {
  spf: SpfFacts;
  dkim: string;
  dmarc: DmarcFacts;
  /** Which results were stated rather than evaluated. */
  stated: Array<'spf' | 'dkim' | 'dmarc'>;
}

const domainOf = (a: string): string => (a.includes('@') ? (a.split('@').pop() ?? '') : '').toLowerCase();

async function spfOf(input: WhatIfInput, resolver: DnsResolveFn): Promise<SpfFacts> {
  const domain = domainOf(input.mailFrom);
  if (input.spf !== undefined) return spfFacts({ domain, status: { result: input.spf } }, domain);
  const o: SpfOutcome = await checkSpf({ clientIp: input.clientIp, helo: input.helo, mailFrom: input.mailFrom, mta: input.mta }, { resolver, checkHelo: true });
  return spfFacts(o.mailFrom, domain);
}

/** Evaluate (or take as stated) SPF, DKIM and DMARC for one what-if transaction. */
export async function whatIfAuth(input: WhatIfInput, resolver: DnsResolveFn): Promise<WhatIfAuth> {
  const stated = (['spf', 'dkim', 'dmarc'] as const).filter((k) => input[k] !== undefined);
  const spf = await spfOf(input, resolver);
  const dkim = input.dkim ?? 'none';
  const from = domainOf(input.headerFrom);
  const dkimRows: DkimSignatureFacts[] = dkim === 'pass' ? [{ domain: from, selector: 'stated', result: 'pass', aligned: true }] : [];
  let dmarc: DmarcFacts = { result: 'none', alignment: { spf: false, dkim: false }, ...(from ? { headerFrom: from } : {}) };
  const needLookup = from !== '' && (input.dmarc === undefined || input.dmarcPolicy === undefined);
  if (needLookup) {
    const out = await checkDmarc(
      { headerFrom: [input.headerFrom], spfDomains: spf.result === 'pass' && spf.domain ? [spf.domain] : [], dkimDomains: dkim === 'pass' ? [{ domain: from, aligned: true }] : [] },
      { resolver },
    );
    dmarc = dmarcFacts({ dkim: { headerFrom: [input.headerFrom] }, dmarc: out.result }, spf, dkimRows);
  }
  if (input.dmarc !== undefined) {
    dmarc = { ...dmarc, result: input.dmarc, pct: dmarc.pct ?? 100 };
    if (input.dmarcPolicy !== undefined) dmarc.policy = input.dmarcPolicy;
  }
  return { spf, dkim, dmarc, stated };
}
