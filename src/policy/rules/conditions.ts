/**
 * @module policy/rules/conditions
 * Compiles each condition of a rule (reference §8.2) into a predicate over RuleMessage that answers
 * true, false, or undefined when the facts it needs are not known (a replay over trace rows has no
 * headers or body): words are matched case-insensitively as substrings, as Exchange's
 * …ContainsWords; domains match the domain and its subdomains (SenderDomainIs); the sender address
 * read follows senderAddressLocation (Header, the default; Envelope = MAIL FROM; HeaderOrEnvelope).
 * FromScope InOrganization = authenticated or OnPremises-connector mail whose sender domain is
 * accepted; NotInOrganization = everything else (reference §8.2 note: anonymous mail from an accepted
 * domain is not InOrganization). SentToScope matches when any recipient is in the scope.
 * Touches: nothing (pure).
 */
import { compileCidrs } from '../../core/cidr.ts';
import { isSubdomainOf, normalizeDomain, parseAddress } from '../../core/address.ts';
import { unsafePatternReason } from './regex-safety.ts';
import type { CompiledCondition, Predicate, RuleConditionsSpec, RuleMessage, RuleContext, SenderAddressLocation } from './types.ts';

/** A condition that cannot be compiled; compile.ts adds the path. */
export class ConditionError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function domainOf(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const p = parseAddress(address);
  return p.invalid ? '' : p.domain;
}

/** The sender addresses a sender condition reads (header From unknown → undefined). */
function senderAddresses(m: RuleMessage, loc: SenderAddressLocation): string[] | undefined {
  if (loc === 'Envelope') return [m.mailFrom.toLowerCase()];
  if (m.headerFrom === undefined) return undefined;
  const header = m.headerFrom.toLowerCase();
  return loc === 'Header' ? [header] : [header, m.mailFrom.toLowerCase()];
}

function anyDomain(domains: readonly string[]): (d: string) => boolean {
  const ds = domains.map((d) => normalizeDomain(d.startsWith('*.') ? d.slice(2) : d));
  return (d) => d !== '' && ds.some((x) => isSubdomainOf(d, x));
}

function containsAny(words: readonly string[]): (text: string) => boolean {
  const ws = words.map((w) => w.toLowerCase());
  return (text) => {
    const t = text.toLowerCase();
    return ws.some((w) => t.includes(w));
  };
}

function inOrganization(m: RuleMessage, ctx: RuleContext, loc: SenderAddressLocation): boolean | undefined {
  const a = m.attribution;
  const trusted = a.kind === 'authenticated' || (a.kind === 'connector' && a.connectorType === 'OnPremises');
  if (!trusted) return false;
  const senders = senderAddresses(m, loc);
  if (!senders) return undefined;
  return senders.some((s) => {
    const d = domainOf(s);
    return d !== undefined && d !== '' && ctx.isAcceptedDomain(d);
  });
}

/** The result word of an auth column ("fail smtp.mailfrom=…" → "fail"; a DKIM JSON list → each result). */
function resultWords(column: string | undefined): string[] | undefined {
  if (column === undefined) return undefined;
  const t = column.trim();
  if (t.startsWith('[')) {
    const found = [...t.matchAll(/"result":"([a-z]+)"/g)].map((x) => x[1] ?? '');
    return found.length ? found : ['none'];
  }
  return [t.split(/[\s/]/)[0]?.toLowerCase() ?? ''];
}

function authCondition(key: 'spf' | 'dkim' | 'dmarc' | 'compauth', wanted: readonly string[]): Predicate {
  const set = new Set(wanted.map((w) => w.toLowerCase()));
  return (m) => {
    if (!m.auth) return undefined;
    const words = resultWords(m.auth[key]);
    return words === undefined ? undefined : words.some((w) => set.has(w));
  };
}

function headerValues(m: RuleMessage, name: string): string[] | undefined {
  const n = name.toLowerCase();
  if (!m.headers) {
    if (n === 'subject' && m.subject !== undefined) return [m.subject];
    if (n === 'from' && m.headerFrom !== undefined) return [m.headerFrom];
    return undefined;
  }
  return m.headers.filter(([k]) => k === n).map(([, v]) => v);
}

type Builder<K extends keyof RuleConditionsSpec> = (v: NonNullable<RuleConditionsSpec[K]>, loc: SenderAddressLocation) => Predicate;

const BUILDERS: { [K in keyof RuleConditionsSpec]-?: Builder<K> } = {
  fromScope: (scope, loc) => (m, ctx) => {
    const inOrg = inOrganization(m, ctx, loc);
    return inOrg === undefined ? undefined : scope === 'InOrganization' ? inOrg : !inOrg;
  },
  sentToScope: (scope) => (m, ctx) =>
    m.recipients.some((r) => {
      const d = domainOf(r);
      const inside = d !== undefined && d !== '' && ctx.isAcceptedDomain(d);
      return scope === 'InOrganization' ? inside : !inside;
    }),
  senderDomainIs: (domains, loc) => {
    const match = anyDomain(domains);
    return (m) => senderAddresses(m, loc)?.some((s) => match(domainOf(s) ?? ''));
  },
  fromAddressContainsWords: (words, loc) => {
    const has = containsAny(words);
    return (m) => senderAddresses(m, loc)?.some(has);
  },
  senderIpRanges: (ranges) => {
    const cidrs = compileCidrs(ranges);
    return (m) => cidrs.contains(m.clientIp);
  },
  recipientDomainIs: (domains) => {
    const match = anyDomain(domains);
    return (m) => m.recipients.some((r) => match(domainOf(r) ?? ''));
  },
  headerContainsWords: ({ header, words }) => {
    const has = containsAny(words);
    return (m) => headerValues(m, header)?.some(has);
  },
  headerMatchesPatterns: ({ header, patterns }) => {
    const res = patterns.map((p, i) => {
      const why = unsafePatternReason(p);
      if (why) throw new ConditionError(`headerMatchesPatterns.patterns[${i}]`, why);
      return new RegExp(p, 'iu');
    });
    return (m) => headerValues(m, header)?.some((v) => res.some((re) => re.test(v)));
  },
  subjectOrBodyContainsWords: (words) => {
    const has = containsAny(words);
    return (m) => {
      if (m.subject !== undefined && has(m.subject)) return true;
      return m.bodyText === undefined ? undefined : has(m.bodyText);
    };
  },
  attachmentExtensionMatchesWords: (exts) => {
    const set = new Set(exts.map((e) => e.toLowerCase().replace(/^\./, '')));
    return (m) => m.attachments?.some((f) => set.has(f.slice(f.lastIndexOf('.') + 1).toLowerCase()) && f.includes('.'));
  },
  messageSizeOver: (bytes) => (m) => (m.size === undefined ? undefined : m.size > bytes),
  attributionIs: (kinds) => (m) => kinds.includes(m.attribution.kind as (typeof kinds)[number]),
  connectorIs: (names) => {
    const set = new Set(names.map((n) => n.toLowerCase()));
    return (m) => (m.attribution.kind === 'connector' ? set.has(m.attribution.connector.toLowerCase()) : set.has('none'));
  },
  spf: (w) => authCondition('spf', w),
  dkim: (w) => authCondition('dkim', w),
  dmarc: (w) => authCondition('dmarc', w),
  compauth: (w) => authCondition('compauth', w),
  spoofSuspect: (want) => (m) => (m.auth?.spoofSuspect === undefined ? undefined : m.auth.spoofSuspect === want),
};

const BODY: ReadonlySet<string> = new Set(['subjectOrBodyContainsWords', 'attachmentExtensionMatchesWords']);
const HEADERS: ReadonlySet<string> = new Set(['headerContainsWords', 'headerMatchesPatterns']);

/** Compile every condition given in `spec`. Throws ConditionError naming the field. */
export function compileConditions(spec: RuleConditionsSpec, loc: SenderAddressLocation): CompiledCondition[] {
  const out: CompiledCondition[] = [];
  for (const key of Object.keys(BUILDERS) as (keyof RuleConditionsSpec)[]) {
    const value = spec[key];
    if (value === undefined) continue;
    const build = BUILDERS[key] as Builder<typeof key>;
    try {
      out.push({ name: key, test: build(value as never, loc), needsBody: BODY.has(key), needsHeaders: HEADERS.has(key) });
    } catch (e) {
      if (e instanceof ConditionError) throw e;
      throw new ConditionError(key, (e as Error).message);
    }
  }
  return out;
}
