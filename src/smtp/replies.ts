/**
 * @module smtp/replies
 * THE reply table: every reply mailgate itself sends (as opposed to the protocol-level replies of
 * the smtp-server library, listed separately in docs/replies.md) maps a key to a code, an
 * enhanced status code (RFC 3463 / RFC 5248) and a text. Nothing else in the code base writes a
 * reply code. Texts quoted from Exchange Online are reproduced verbatim
 * (reference/exchange-online.md §1.1, §3.1). Every 4xx/5xx carries the trace id as
 * `[id@host]`, so a refused sender can quote it to the admin (Haraka's respond()).
 * docs/replies.md is checked against this table by test/docs/replies.test.ts, both ways.
 * Touches: nothing.
 */
import type { PolicyReplyKey } from '../policy/types.ts';

export interface Reply {
  code: number;
  enhanced: string;
  /** Text; `{name}` placeholders are filled from vars. */
  text: string;
  /** `vars.enhanced` may replace `enhanced` (same class and subject, e.g. a rule's 5.7.9xx); else `enhanced` is used. */
  variableEnhanced?: boolean;
}

export type SmtpReplyKey =
  | 'queued'
  | 'bare-lf'
  | 'bare-cr'
  | 'nul-byte'
  | 'line-too-long'
  | 'message-too-big'
  | 'headers-too-large'
  | 'queue-error'
  | 'policy-error'
  | 'too-many-errors'
  | 'auth-failed'
  | 'auth-tempfail'
  | 'auth-encryption-required'
  | 'auth-in-transaction'
  | 'recipient-unknown'
  | 'recipient-unverified'
  | 'too-many-hops'
  | 'client-connection-limit'
  | 'client-rate-limit'
  | 'auth-throttled'
  | 'insufficient-storage'
  | 'rule-reject';

export type ReplyKey = PolicyReplyKey | SmtpReplyKey;

/** Every reply, keyed. A missing PolicyReplyKey is a compile error. */
export const REPLIES: Readonly<Record<ReplyKey, Reply>> = Object.freeze({
  // connect
  'client-not-permitted': { code: 554, enhanced: '5.7.1', text: 'Access denied: client [{ip}] is not permitted on this receive connector' },
  'client-blocked': { code: 554, enhanced: '5.7.1', text: 'Client host [{ip}] blocked by policy' },
  // MAIL FROM
  'sender-blocked': { code: 550, enhanced: '5.7.1', text: 'Sender domain {domain} blocked by policy' },
  'auth-required': { code: 530, enhanced: '5.7.57', text: 'Client was not authenticated to send anonymous mail during MAIL FROM' },
  'send-as-denied': { code: 550, enhanced: '5.7.60', text: 'SMTP; Client does not have permissions to send as this sender' },
  'default-deny': { code: 550, enhanced: '5.7.1', text: 'Delivery not authorized: this receive connector accepts only authenticated or connector-matched mail' },
  'connector-requires-tls': { code: 530, enhanced: '5.7.10', text: 'Must issue a STARTTLS command first: inbound connector {connector} requires TLS' },
  // RCPT TO
  'relay-denied': { code: 550, enhanced: '5.7.64', text: 'TenantAttribution; Relay Access Denied' },
  // reference §3.1/§3.2: OnPremises connector matched by IP, sender domain not accepted (ATTR36)
  'relay-sender-not-accepted': { code: 550, enhanced: '5.7.64', text: 'Relay Access Denied ATTR36. For more details please refer to KB 3169958.' },
  'relay-routing-denied': { code: 550, enhanced: '5.7.64', text: 'TenantAttribution; Relay Access Denied (source routes and %, ! addresses are not accepted)' },
  'direct-send-rejected': { code: 550, enhanced: '5.7.68', text: 'TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources' },
  'partner-restricted': {
    code: 550,
    enhanced: '5.7.51',
    text: "TenantInboundAttribution; There is a partner connector configured that matched the message's recipient domain. The connector had either the RestrictDomainsToIPAddresses or RestrictDomainsToCertificate set",
  },
  'too-many-recipients': { code: 452, enhanced: '4.5.3', text: 'Error: too many recipients' },
  // recipient validation (Exchange Online's Directory-Based Edge Blocking text, reference §3.1)
  'recipient-unknown': { code: 550, enhanced: '5.4.1', text: 'Recipient address rejected: Access denied. AS(201806281)' },
  'recipient-unverified': { code: 450, enhanced: '4.1.1', text: 'Recipient address verification in progress, try again later' },
  // end of DATA, after SPF/DKIM/DMARC (reference §7.3: the NDR-table text of 5.7.509)
  'dmarc-reject': {
    code: 550,
    enhanced: '5.7.509',
    text: 'Access denied, sending domain {domain} does not pass DMARC verification and has a DMARC policy of reject.',
  },
  // end of DATA, anonymous mail: one From field with one mailbox (RFC 5322 §3.6, RFC 7489 §6.6.1)
  'from-header-duplicate': { code: 550, enhanced: '5.7.1', text: 'Message refused: more than one From header field (RFC 5322 section 3.6)' },
  'from-header-multiple': { code: 550, enhanced: '5.7.1', text: 'Message refused: the From header field names more than one address (RFC 7489 section 6.6.1)' },
  'from-header-group': { code: 550, enhanced: '5.7.1', text: 'Message refused: group syntax in the From header field is not accepted' },
  'dmarc-tempfail': { code: 451, enhanced: '4.7.5', text: 'Temporary DNS failure evaluating DMARC for {domain}, try again later' },
  // Quarantine is an accept: the sender is told only that the message was queued.
  'dmarc-quarantine': { code: 250, enhanced: '2.0.0', text: 'Ok: queued as {id}' },
  // end of DATA
  queued: { code: 250, enhanced: '2.0.0', text: 'Ok: queued as {id}' },
  'bare-lf': { code: 550, enhanced: '5.5.2', text: 'Error: bare <LF> received; message refused (SMTP smuggling protection)' },
  'bare-cr': { code: 550, enhanced: '5.5.2', text: 'Error: bare <CR> received; message refused (SMTP smuggling protection)' },
  'nul-byte': { code: 550, enhanced: '5.5.2', text: 'Error: NUL byte received; message refused' },
  'line-too-long': { code: 550, enhanced: '5.5.2', text: 'Error: message line longer than {limit} bytes' },
  'message-too-big': { code: 552, enhanced: '5.3.4', text: 'Error: message exceeds fixed maximum message size {limit}' },
  'headers-too-large': { code: 552, enhanced: '5.3.4', text: 'Error: message header section too large' },
  'too-many-hops': { code: 554, enhanced: '5.4.6', text: 'Error: too many hops ({count} Received headers, limit {limit}): mail forwarding loop' },
  'queue-error': { code: 451, enhanced: '4.3.0', text: 'Error: queue file write error, try again later' },
  'policy-error': { code: 451, enhanced: '4.3.5', text: 'Error: server configuration problem, try again later' },
  // session
  'too-many-errors': { code: 421, enhanced: '4.7.0', text: 'Error: too many errors, closing connection' },
  'auth-failed': { code: 535, enhanced: '5.7.3', text: 'Authentication unsuccessful' },
  'auth-tempfail': { code: 454, enhanced: '4.7.0', text: 'Temporary authentication failure' },
  'auth-encryption-required': { code: 538, enhanced: '5.7.11', text: 'Encryption required for requested authentication mechanism' },
  'auth-in-transaction': { code: 503, enhanced: '5.5.1', text: 'Error: AUTH not permitted during a mail transaction' },
  // limits (issue 19: per-client connections, AUTH brute force, disk space)
  'client-connection-limit': { code: 421, enhanced: '4.7.0', text: 'Error: too many connections from [{ip}], try again later' },
  'client-rate-limit': { code: 421, enhanced: '4.7.0', text: 'Error: too many connection attempts from [{ip}], try again later' },
  'auth-throttled': { code: 454, enhanced: '4.7.0', text: 'Too many failed authentication attempts, try again later' },
  'insufficient-storage': { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage' },
  // end of DATA: a transport rule's rejectMessage (reference §8.3: 5.7.1 or 5.7.900–5.7.999, checked by the
  // config schema; default text "Delivery not authorized, message refused"). In session, so no bounce.
  'rule-reject': { code: 550, enhanced: '5.7.1', text: '{text}', variableEnhanced: true },
});

function fill(text: string, vars: Record<string, string> | undefined): string {
  if (!vars) return text.replace(/\{[a-z]+\}/g, '');
  return text.replace(/\{([a-z]+)\}/g, (_m, k: string) => vars[k] ?? '');
}

/** The full reply line (without CRLF): "550 5.7.68 text [id@host]". */
export function formatReply(key: ReplyKey, vars?: Record<string, string>, traceId?: string, host?: string): string {
  const r = REPLIES[key];
  const tag = r.code >= 400 && traceId ? ` [${traceId}@${host ?? 'mailgate'}]` : '';
  const given = r.variableEnhanced ? vars?.enhanced : undefined;
  const enhanced = given !== undefined && /^\d\.\d{1,3}\.\d{1,3}$/.test(given) && given.slice(0, 4) === r.enhanced.slice(0, 4) ? given : r.enhanced;
  return `${r.code} ${enhanced} ${fill(r.text, vars)}${tag}`;
}

/** An Error that smtp-server turns into the reply: responseCode + message (enhanced code inside the text). */
export class SmtpReplyError extends Error {
  readonly responseCode: number;
  constructor(
    readonly key: ReplyKey,
    vars?: Record<string, string>,
    traceId?: string,
    host?: string,
  ) {
    const line = formatReply(key, vars, traceId, host);
    super(line.slice(4));
    this.responseCode = REPLIES[key].code;
  }
}
