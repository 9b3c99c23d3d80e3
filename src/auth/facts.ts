/**
 * @module auth/facts
 * Translates mailauth 4.13.3's result objects into AuthFacts, mapping its result words onto
 * RFC 8601's honestly:
 *   DKIM: mailauth says `neutral (body hash did not verify)` for a changed body; RFC 6376 §6.1.3
 *   calls that a verification failure, and Exchange writes `dkim=fail (body hash did not verify)`,
 *   so it becomes `fail`. A missing key record (`neutral (no key)`), an unknown key version/type or
 *   an unparseable key become `permerror` (RFC 6376 §6.1.2 PERMFAIL, not a signature mismatch).
 *   A too-short key stays `policy`; anything else neutral (expired signature…) stays `neutral`.
 *   DMARC: a `fail` computed while SPF or a DKIM signature hit a DNS temperror is reported as
 *   `temperror` (RFC 7489 §6.6.2: the inputs were not conclusive; a retry may pass), so policy/
 *   answers 4xx instead of 550 on a DNS hiccup. A message with several From addresses gets
 *   `permerror` (RFC 7489 §6.6.1); one without a From gets `none`.
 * Touches: nothing (pure).
 * RFCs: 7208, 6376, 7489, 8617, 8601.
 */
import type { ArcFacts, DkimResult, DkimSignatureFacts, DmarcFacts, DmarcPolicy, SpfFacts, SpfResult } from './types.ts';

/** The parts of mailauth's SPF result we read. */
export interface MaSpf {
  domain?: string;
  status?: { result?: string; comment?: string };
  lookups?: { count?: number; void?: number };
  header?: string;
}
interface MaDkimRow {
  signingDomain?: string;
  selector?: string;
  status?: { result?: string; comment?: string; aligned?: string | boolean };
}
interface MaDmarc {
  status?: { result?: string; comment?: string };
  policy?: string;
  p?: string;
  sp?: string;
  pct?: number;
  alignment?: { spf?: { result?: string | false }; dkim?: { result?: string | false } };
  error?: string;
}
export interface MaResult {
  spf?: MaSpf | false;
  dkim?: { headerFrom?: string[]; results?: MaDkimRow[] };
  dmarc?: MaDmarc | false;
  arc?: { i?: number | false; status?: { result?: string } } | false;
}

const SPF_RESULTS: readonly SpfResult[] = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'];
const POLICIES: readonly DmarcPolicy[] = ['none', 'quarantine', 'reject'];

export function spfFacts(r: MaSpf | false | undefined, fallbackDomain: string): SpfFacts {
  if (!r) return { result: 'none', domain: fallbackDomain };
  const raw = r.status?.result === 'temperr' ? 'temperror' : r.status?.result;
  const result = SPF_RESULTS.includes(raw as SpfResult) ? (raw as SpfResult) : 'temperror';
  const facts: SpfFacts = { result, domain: r.domain ?? fallbackDomain };
  if (r.lookups?.count !== undefined) facts.lookups = r.lookups.count;
  if (r.lookups?.void !== undefined) facts.voidLookups = r.lookups.void;
  if (r.status?.comment) facts.comment = r.status.comment;
  return facts;
}

function dkimResult(raw: string | undefined, comment: string | undefined): DkimResult {
  switch (raw) {
    case 'pass':
    case 'fail':
    case 'none':
    case 'policy':
    case 'temperror':
    case 'permerror':
      return raw;
    case 'temperr':
      return 'temperror';
    case 'neutral':
      if (comment === 'body hash did not verify') return 'fail';
      if (comment && /^(no key|unknown key version|unknown key type|invalid public key)$/.test(comment)) return 'permerror';
      return 'neutral';
    default:
      return 'neutral';
  }
}

export function dkimFacts(rows: MaDkimRow[] | undefined): DkimSignatureFacts[] {
  const out: DkimSignatureFacts[] = [];
  for (const row of rows ?? []) {
    if (!row.signingDomain) continue; // mailauth's placeholder row for an unsigned message
    const sig: DkimSignatureFacts = {
      domain: row.signingDomain.toLowerCase(),
      selector: row.selector ?? '',
      result: dkimResult(row.status?.result, row.status?.comment),
      aligned: Boolean(row.status?.aligned),
    };
    if (row.status?.comment) sig.info = row.status.comment;
    out.push(sig);
  }
  return out;
}

const asPolicy = (v: string | undefined): DmarcPolicy | undefined => {
  const p = v?.trim().toLowerCase();
  return POLICIES.includes(p as DmarcPolicy) ? (p as DmarcPolicy) : undefined;
};

export function dmarcFacts(r: MaResult, spf: SpfFacts, dkim: DkimSignatureFacts[]): DmarcFacts {
  const froms = r.dkim?.headerFrom ?? [];
  const first = froms[0];
  const headerFrom = first ? first.split('@').pop()?.toLowerCase() : undefined;
  const base: DmarcFacts = { result: 'none', alignment: { spf: false, dkim: false } };
  if (headerFrom) base.headerFrom = headerFrom;
  if (froms.length > 1) return { ...base, result: 'permerror', comment: 'multiple From addresses' };
  const d = r.dmarc;
  if (!d || !headerFrom) return base;
  const facts: DmarcFacts = {
    ...base,
    result: d.status?.result === 'pass' || d.status?.result === 'fail' || d.status?.result === 'temperror' ? d.status.result : 'none',
    alignment: { spf: Boolean(d.alignment?.spf?.result), dkim: Boolean(d.alignment?.dkim?.result) },
  };
  const policy = asPolicy(d.policy);
  const p = asPolicy(d.p);
  const sp = asPolicy(d.sp);
  if (policy) facts.policy = policy;
  if (p) facts.p = p;
  if (sp) facts.sp = sp;
  if (facts.result !== 'none' && facts.result !== 'temperror') facts.pct = typeof d.pct === 'number' ? d.pct : 100;
  if (d.error) facts.comment = d.error;
  const inconclusive = spf.result === 'temperror' || dkim.some((s) => s.result === 'temperror');
  if (facts.result === 'fail' && inconclusive) {
    facts.result = 'temperror';
    facts.comment = 'SPF or DKIM hit a DNS error; DMARC not conclusive';
  }
  return facts;
}

export function arcFacts(r: MaResult['arc']): ArcFacts {
  if (!r) return { result: 'none' };
  const raw = r.status?.result;
  const result = raw === 'pass' || raw === 'fail' || raw === 'temperror' || raw === 'permerror' ? raw : 'none';
  return typeof r.i === 'number' && r.i > 0 ? { result, i: r.i } : { result };
}
