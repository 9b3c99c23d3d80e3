/**
 * @module deliver/tls-policy
 * The TLS security level of a connection to a next hop, with Postfix's names
 * (smtp_tls_security_level): `none` (never STARTTLS), `may` (opportunistic, unverified: protects
 * against passive sniffing only, RFC 7435), `encrypt` (TLS required, certificate not checked),
 * `verify` (TLS required; the chain must verify against the system CAs or the route's `caFile`
 * and the certificate must name the host dialled, or the route's `tlsName`), `secure` (as
 * verify; on an `mx` route the certificate must name the recipient domain or a subdomain of it,
 * not the MX host learnt from insecure DNS). The old names map: `opportunistic` → `may`,
 * `required` → `verify` (it promised a protected hop, so it now verifies).
 * Also builds nodemailer's TLS options for a level, and the 4.7.5 reason of a failed check.
 * Touches: reads the route's `caFile`.
 * RFCs: 3207 (STARTTLS), 6125 (server identity), 7435 (opportunistic security), 8461 §4.2
 * (MTA-STS needs a verified chain and MX name), 3463 (X.7.5 cryptographic failure).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Route } from '../config/schema.ts';

export type TlsLevel = 'none' | 'may' | 'encrypt' | 'verify' | 'secure';

/** The level a route asks for, old names mapped. */
export function tlsLevel(route: Pick<Route, 'tls'>): TlsLevel {
  switch (route.tls) {
    case 'opportunistic':
      return 'may';
    case 'required':
      return 'verify';
    default:
      return route.tls;
  }
}

/** True when the level checks the certificate (chain and name). */
export function verifies(level: TlsLevel): boolean {
  return level === 'verify' || level === 'secure';
}

/** What one connection needs: the level, and for verifying levels the names a certificate may carry. */
export interface TlsTarget {
  level: TlsLevel;
  /** Exact names the certificate must match one of (RFC 6125). */
  names: string[];
  /** A domain whose subdomains also match (secure level on an mx route: Postfix's dot-nexthop). */
  parentDomain?: string | undefined;
}

/** The target for dialling `host` on `route`; `domain` is the recipient domain on an mx route. */
export function tlsTarget(route: Route, host: string, domain?: string): TlsTarget {
  const level = tlsLevel(route);
  if (route.tlsName) return { level, names: [route.tlsName] };
  if (level === 'secure' && route.type === 'mx' && domain) return { level, names: [domain], parentDomain: domain };
  return { level, names: [host] };
}

/** Check a peer certificate against a target's names; undefined when it matches, else the error. */
export function checkNames(target: TlsTarget, cert: PeerCertificate): Error | undefined {
  let first: Error | undefined;
  for (const name of target.names) {
    const err = checkServerIdentity(name, cert);
    if (!err) return undefined;
    first ??= err;
  }
  if (target.parentDomain) {
    const suffix = `.${target.parentDomain.toLowerCase()}`;
    const dnsNames = (cert.subjectaltname ?? '').split(/,\s*/).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
    if (dnsNames.some((n) => n.endsWith(suffix) && !n.startsWith('*'))) return undefined;
  }
  return first ?? Object.assign(new Error('certificate names none of the expected hosts'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
}

/** True for a failed certificate check (chain or name), as Node reports it under nodemailer's wrapper. */
export function isCertificateError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, originalCode } = err as { code?: unknown; originalCode?: unknown };
  return [code, originalCode].some((c) => typeof c === 'string' && /CERT|UNABLE_TO_(GET|VERIFY|DECRYPT)|ERR_TLS_CERT_ALTNAME/.test(c));
}

/** nodemailer's STARTTLS switches and tls.connect options for a target (client certificate added by the caller). */
export async function tlsOptions(route: Route, target: TlsTarget): Promise<{
  ignoreTLS: boolean;
  requireTLS: boolean;
  opportunisticTLS: boolean;
  tls: Record<string, unknown>;
}> {
  const sni = target.names[0];
  const servername = sni && !isIP(sni) ? { servername: sni } : {};
  const base = { ignoreTLS: target.level === 'none', requireTLS: target.level !== 'none' && target.level !== 'may', opportunisticTLS: target.level === 'may' };
  if (!verifies(target.level)) {
    // may/encrypt: TLS against passive sniffing only (RFC 7435); the certificate is not checked.
    return { ...base, tls: { rejectUnauthorized: false, ...servername } };
  }
  const ca = route.caFile ? { ca: await readFile(route.caFile) } : {};
  return {
    ...base,
    tls: {
      rejectUnauthorized: true,
      ...servername,
      ...ca,
      // The name is checked against the configured/next-hop name, not the address actually dialled.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkNames(target, cert),
    },
  };
}

/** The key of everything in a target that shapes a pooled connection. */
export function targetKey(target: TlsTarget): string {
  return `${target.level}|${target.names.join(',')}|${target.parentDomain ?? ''}`;
}

/** The reply of a failed verification: which name, which level, what the TLS stack said. */
export function verificationFailure(target: TlsTarget, detail: string): string {
  const why = detail.replace(/^Error initiating TLS - /, '');
  return `TLS certificate verification failed for ${target.names.join(' or ')} (tls: ${target.level}): ${why}; not delivered`;
}
