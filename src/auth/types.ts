/**
 * @module auth/types
 * The facts auth/ hands to the rest of the gateway: what SPF, DKIM, DMARC and ARC said about one
 * message, a composite verdict in Exchange's `compauth` vocabulary, and the header lines to stamp.
 * These are evaluations, never decisions: policy/ turns them into a Verdict.
 * Touches: nothing (types only).
 * RFCs: 7208 (SPF results), 6376 (DKIM), 7489 (DMARC), 8617 (ARC), 8601 (result names).
 */

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';
export type DkimResult = 'pass' | 'fail' | 'neutral' | 'none' | 'policy' | 'temperror' | 'permerror';
export type DmarcResult = 'pass' | 'fail' | 'none' | 'temperror' | 'permerror';
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';
export type ArcResult = 'pass' | 'fail' | 'none' | 'temperror' | 'permerror';
export type CompauthResult = 'pass' | 'fail' | 'softpass' | 'none';

export interface SpfFacts {
  result: SpfResult;
  /** The domain checked: MAIL FROM's domain, or HELO's when MAIL FROM is empty. */
  domain: string;
  /** mailauth 4.13.3 does not report the matched mechanism; kept for a future SPF engine. */
  mechanism?: string;
  /** DNS-querying terms counted against the RFC 7208 §4.6.4 limit of 10. */
  lookups?: number;
  /** Void lookups counted against the limit of 2. */
  voidLookups?: number;
  /** mailauth's explanation, e.g. "... does not designate 192.0.2.9 as permitted sender". */
  comment?: string;
}

export interface DkimSignatureFacts {
  domain: string;
  selector: string;
  result: DkimResult;
  /** d= is in the same organisational domain as the header From (relaxed alignment). */
  aligned?: boolean;
  /** Why, e.g. "body hash did not verify", "no key". */
  info?: string;
}

export interface DmarcFacts {
  result: DmarcResult;
  /** The policy that applies to this From domain: sp= for a subdomain when the org record has it. */
  policy?: DmarcPolicy;
  p?: DmarcPolicy;
  sp?: DmarcPolicy;
  /** Sampling percentage (default 100). Applying it is policy/'s job. */
  pct?: number;
  alignment: { spf: boolean; dkim: boolean };
  /** The RFC5322.From domain. */
  headerFrom?: string;
  /** For temperror/permerror: why. */
  comment?: string;
}

export interface ArcFacts {
  result: ArcResult;
  /** Highest ARC instance seen. */
  i?: number;
}

export interface CompauthFacts {
  result: CompauthResult;
  /** Exchange-style 3-digit reason (see auth/compauth for the mapping). */
  reason: string;
}

export interface AuthFacts {
  spf: SpfFacts;
  /** SPF of the HELO identity (RFC 7208 §2.3), when HELO is a domain name. */
  heloSpf?: SpfFacts;
  /** One entry per DKIM-Signature verified, in header order; empty when the message is unsigned. */
  dkim: DkimSignatureFacts[];
  /** Signatures over the per-message cap, not verified (no DNS lookup); absent when none. */
  dkimNotChecked?: Array<{ domain: string; selector: string }>;
  dmarc: DmarcFacts;
  arc: ArcFacts;
  compauth: CompauthFacts;
  /** No SPF pass, no DKIM pass and DMARC fail: the usual shape of spoofing. */
  spoofSuspect: boolean;
  /** Complete header line, folded, CRLF-terminated. */
  authResultsHeader: string;
  /** Complete Received-SPF header line (RFC 7208 §9.1), CRLF-terminated. */
  receivedSpfHeader?: string;
  /**
   * Resolver calls the evaluation needed (cache hits included); an SPF result reused from the SPF
   * cache counts the calls its evaluation made.
   */
  dnsLookups: number;
  elapsedMs: number;
  /** Set when evaluation failed as a whole (everything is then temperror). */
  error?: string;
}
