/**
 * @module smtp/headers
 * The trace header lines mailgate puts in front of each accepted message: a Received line
 * (RFC 5321 §4.4, with the RFC 3848 "with" keyword) and the attribution stamps
 * X-Mailgate-Attribution / X-Mailgate-Connector, as Exchange stamps
 * X-MS-Exchange-Organization-AuthAs. Incoming copies of X-Mailgate-* are stripped by the data
 * guard before these are added, so a sender cannot forge an attribution.
 * Touches: nothing. RFCs: 5321 §4.4, 3848, 5322 §3.3 (date-time).
 */
import type { Attribution } from '../policy/types.ts';

/**
 * Incoming header lines removed before anything else sees the message: every X-Mailgate-* (so an
 * attribution cannot be forged), and an Authentication-Results that claims our authserv-id
 * (RFC 8601 §5); one from another host is kept.
 */
export function strippedHeaderPredicate(authservId: string, isOurs: (value: string, id: string) => boolean): (name: string, line: string) => boolean {
  return (name, line) => {
    if (name.startsWith('x-mailgate-')) return true;
    if (name !== 'authentication-results') return false;
    const colon = line.indexOf(':');
    return isOurs(line.slice(colon + 1), authservId);
  };
}

/** RFC 5322 date-time, e.g. "Mon, 23 Nov 2026 16:07:29 +0000". */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** Header-safe: no CR/LF, no control characters, bounded length. */
function clean(s: string, max = 200): string {
  return s.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, max);
}

export interface ReceivedFacts {
  helo: string | undefined;
  clientIp: string;
  hostname: string;
  id: string;
  tls: boolean;
  tlsVersion: string | undefined;
  tlsCipher: string | undefined;
  authUser: string | undefined;
  rcpts: string[];
  at: number;
}

/** The Received line (folded, CRLF-terminated). */
export function receivedHeader(f: ReceivedFacts): string {
  const proto = 'ESMTP' + (f.tls ? 'S' : '') + (f.authUser ? 'A' : '');
  const tls = f.tls ? `\r\n\t(using ${clean(f.tlsVersion ?? 'TLS')} with cipher ${clean(f.tlsCipher ?? 'unknown')})` : '';
  const forClause = f.rcpts.length === 1 ? `\r\n\tfor <${clean(f.rcpts[0] ?? '')}>` : '';
  return (
    `Received: from ${clean(f.helo ?? 'unknown')} ([${f.clientIp}])${tls}\r\n` +
    `\tby ${clean(f.hostname)} (mailgate) with ${proto} id ${f.id}${forClause};\r\n` +
    `\t${rfc5322Date(f.at)}\r\n`
  );
}

/** The attribution stamp value, e.g. `connector; name="Printers"; type=Partner; matched-by=ip`. */
export function attributionValue(a: Attribution): string {
  switch (a.kind) {
    case 'authenticated':
      return `authenticated; user="${clean(a.user, 100).replace(/"/g, "'")}"`;
    case 'connector':
      return `connector; name="${clean(a.connector, 100).replace(/"/g, "'")}"; type=${a.connectorType}; matched-by=${a.matchedBy}`;
    case 'direct-send':
      return `direct-send; basis=${a.basis}`;
    case 'anonymous-external':
      return 'anonymous-external';
    case 'relay-denied':
      return 'relay-denied';
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

/**
 * All header lines we prepend: Received, Authentication-Results (when evaluated),
 * X-Mailgate-Attribution, X-Mailgate-Connector (when any).
 */
export function prependHeaders(f: ReceivedFacts, a: Attribution, authResults = ''): string {
  let h = receivedHeader(f) + authResults + `X-Mailgate-Attribution: ${attributionValue(a)}\r\n`;
  if (a.kind === 'connector') h += `X-Mailgate-Connector: ${clean(a.connector, 100)}\r\n`;
  return h;
}
