/**
 * @module policy/types
 * The vocabulary of the pure policy core: the facts it is given (PolicyInput, a flat record with
 * `undefined` for anything not yet known), the compiled configuration it reads (PolicySnapshot,
 * built once per config version by config/compile), and what it returns (Verdict with exactly one
 * Attribution and, for refusals, a ReplyKey that smtp/replies.ts turns into text).
 * Touches: nothing.
 */
import type { CidrMatcher } from '../core/cidr.ts';
import type { CompiledRules } from './rules/types.ts';

/** SMTP stages, in order (Postfix smtpd_check_client/helo/mail/rcpt/data/eod). */
export type Stage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'eod';

export type ListenerRole = 'mx' | 'relay' | 'submission';
export type ConnectorType = 'Partner' | 'OnPremises';

/** What a client TLS certificate told us (recorded always; used for matching only when verified). */
export interface CertFacts {
  subjectCN?: string | undefined;
  /** DNS names from subjectAltName. */
  sanDns: string[];
  /** True when the chain verified against the listener's trusted client CAs. */
  verified: boolean;
  subject?: string;
  issuer?: string;
  fingerprint256?: string;
}

/**
 * Facts about the connection and transaction. A flat record: each stage fills in more.
 * Documented field by field in docs/policy-input.md.
 */
export interface PolicyInput {
  listener: string;
  clientIp: string;
  clientPort?: number | undefined;
  helo?: string | undefined;
  tls: boolean;
  tlsVersion?: string | undefined;
  cert?: CertFacts | undefined;
  authUser?: string | undefined;
  /** MAIL FROM address as given ('' = null sender). */
  mailFrom?: string | undefined;
  /** The recipient being checked at the rcpt stage. */
  rcpt?: string | undefined;
  /** Recipients already accepted in this transaction (before this one). */
  acceptedRcptCount?: number | undefined;
  /** Header From address (eod stage). */
  headerFrom?: string | undefined;
  /** Number of From header fields in the message (eod stage; RFC 5322 §3.6: exactly one). */
  headerFromFields?: number | undefined;
  /** Every mailbox address of every From field, groups flattened (eod stage). */
  headerFromAddresses?: readonly string[] | undefined;
  /** True when a From field uses group syntax (`team: a@b;`, RFC 5322 §3.4). */
  headerFromGroup?: boolean | undefined;
  /** What SPF/DKIM/DMARC said (eod stage; undefined when not evaluated, e.g. authenticated submission). */
  auth?: AuthSummary | undefined;
}

/** The part of auth/'s facts that policy decides on (auth evaluates, policy decides). */
export interface AuthSummary {
  spf: string;
  dmarc: 'pass' | 'fail' | 'none' | 'temperror' | 'permerror';
  /** The DMARC policy that applies to the header From domain (sp= for a subdomain). */
  dmarcPolicy?: 'none' | 'quarantine' | 'reject' | undefined;
  /** pct= (default 100). */
  dmarcPct?: number | undefined;
  /** The header From domain DMARC was evaluated for. */
  dmarcDomain?: string | undefined;
  /** A stable per-message number in 0..99 (from the queue id) for pct sampling, so a replay decides alike. */
  sample?: number | undefined;
  spoofSuspect?: boolean | undefined;
}

/** The one attribution every message (and every refused transaction) gets. */
export type Attribution =
  | { kind: 'authenticated'; user: string }
  | { kind: 'connector'; connector: string; connectorType: ConnectorType; matchedBy: 'ip' | 'certificate' }
  | { kind: 'direct-send'; basis: 'mail-from' | 'header-from' }
  | { kind: 'anonymous-external' }
  | { kind: 'relay-denied' };

export type AttributionKind = Attribution['kind'];

/** Every refusal policy can produce; smtp/replies.ts maps each to code, enhanced code and text. */
export type PolicyReplyKey =
  | 'client-not-permitted' // scoped receive connector: IP outside remoteIPRanges (554 at connect)
  | 'client-blocked' // IP on the block list
  | 'sender-blocked' // sender domain on the block list
  | 'auth-required' // requireAuth listener, MAIL without AUTH
  | 'send-as-denied' // authenticated user using a MAIL FROM it may not use (5.7.60)
  | 'default-deny' // defaultDeny listener: neither connector nor authenticated
  | 'connector-requires-tls' // matched connector has requireTls, session not encrypted
  | 'relay-denied' // anonymous mail to a non-accepted domain (5.7.64)
  | 'relay-routing-denied' // source route / % hack / ! path in a recipient
  | 'relay-sender-not-accepted' // OnPremises connector matched by IP, MAIL FROM domain not accepted (5.7.64 ATTR36)
  | 'direct-send-rejected' // RejectDirectSend (5.7.68)
  | 'partner-restricted' // Partner connector RestrictDomainsTo* (5.7.51)
  | 'too-many-recipients' // per-message recipient limit (452 4.5.3)
  | 'dmarc-reject' // DMARC fail with p=reject, honoured (550 5.7.509)
  | 'dmarc-tempfail' // DMARC could not be evaluated for a p=reject domain because of DNS (451 4.7.5)
  | 'from-header-duplicate' // anonymous mail with more than one From field (RFC 5322 §3.6, RFC 7489 §6.6.1)
  | 'from-header-multiple' // anonymous mail whose From names more than one address
  | 'from-header-group' // anonymous mail whose From uses group syntax
  | 'dmarc-quarantine'; // not a refusal: accepted into quarantine (the 250 does not tell the sender)

/** The decision of one stage. `continue` means: nothing against it at this stage. */
export type Verdict =
  | { action: 'continue'; attribution?: Attribution | undefined; reasons: string[] }
  | { action: 'reject' | 'tempfail'; reply: PolicyReplyKey; attribution?: Attribution | undefined; reasons: string[]; vars?: Record<string, string> }
  /** Accept, but hold in quarantine (queue state hold) instead of delivering (eod only). */
  | { action: 'quarantine'; reply: 'dmarc-quarantine'; attribution?: Attribution | undefined; reasons: string[]; vars?: Record<string, string> };

/** A compiled inbound connector. */
export interface CompiledConnector {
  name: string;
  connectorType: ConnectorType;
  ips: CidrMatcher;
  senderDomains: readonly string[];
  tlsSenderCertificateName: string | undefined;
  requireTls: boolean;
  restrictDomainsToIPAddresses: boolean;
  restrictDomainsToCertificate: boolean;
}

export interface CompiledListener {
  name: string;
  role: ListenerRole;
  /** undefined = any client may connect. */
  remoteIPRanges: CidrMatcher | undefined;
  requireAuth: boolean;
  defaultDeny: boolean;
  maxRecipients: number;
}

export interface CompiledAcceptedDomain {
  domainName: string;
  domainType: 'Authoritative' | 'InternalRelay';
  matchSubDomains: boolean;
}

export interface CompiledUser {
  name: string;
  /** Normalised addresses, "@domain", or "*". */
  sendAs: readonly string[];
}

/** Everything policy reads: frozen, built once per config version (config/compile.ts). */
export interface PolicySnapshot {
  version: number;
  organization: {
    rejectDirectSend: boolean;
    rejectDirectSendHeaderFrom: boolean;
    /** Honour the sender domain's DMARC policy: p=reject → 550 5.7.509, p=quarantine → hold. */
    honorDmarcPolicy: boolean;
  };
  acceptedDomains: readonly CompiledAcceptedDomain[];
  /** Enabled connectors only. */
  connectors: readonly CompiledConnector[];
  listeners: Readonly<Record<string, CompiledListener>>;
  allow: { ips: CidrMatcher; senderDomains: readonly string[] };
  block: { ips: CidrMatcher; senderDomains: readonly string[] };
  users: Readonly<Record<string, CompiledUser>>;
  /** Transport rules, compiled (policy/rules), sorted by priority. */
  rules: CompiledRules;
}
