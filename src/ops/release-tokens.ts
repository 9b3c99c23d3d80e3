/**
 * @module ops/release-tokens
 * The tokens of "request release" links: `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`
 * where the payload names the message, the recipient, an expiry and a random nonce (the request's
 * id: a token is used once, queue/release-requests.ts). The key is 32 random bytes kept in the data
 * directory (quarantine-token.key, 0600), made on first use; a tampered token fails the HMAC
 * (compared in constant time), an old one its expiry.
 * Touches: <data>/quarantine-token.key.
 * RFCs: RFC 2104 (HMAC), RFC 4648 §5 (base64url).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { OpsError } from './errors.ts';

export interface TokenClaims {
  /** Queue id of the quarantined message. */
  id: string;
  /** The recipient it may be released to. */
  rcpt: string;
  /** Expiry, ms since the epoch. */
  exp: number;
  /** Random; the request's id once used. */
  nonce: string;
}

const KEY_FILE = 'quarantine-token.key';

/** The signing key of `dataDir`, made (0600) on first use; two processes making it at once agree. */
export function tokenKey(dataDir: string): Buffer {
  const path = join(dataDir, KEY_FILE);
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = readFileSync(path);
  if (key.length !== 32) throw new OpsError('unavailable', `${path} is not a 32-byte key; remove it to make a new one (every link sent becomes invalid)`);
  return key;
}

const mac = (key: Buffer, payload: string): Buffer => createHmac('sha256', key).update(payload).digest();

/** A signed token for `claims` (nonce made here when not given). */
export function signToken(key: Buffer, claims: Omit<TokenClaims, 'nonce'> & { nonce?: string }): string {
  const full: TokenClaims = { ...claims, nonce: claims.nonce ?? randomBytes(12).toString('base64url') };
  const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The claims of a token that is intact and not expired at `now`; an OpsError otherwise. */
export function verifyToken(key: Buffer, token: string, now: number): TokenClaims {
  const bad = (): OpsError => new OpsError('forbidden', 'this release link is not valid');
  const m = /^([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) throw bad();
  const [, payload = '', sig = ''] = m;
  const want = mac(key, payload);
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw bad();
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw bad();
  }
  if (typeof claims.id !== 'string' || typeof claims.rcpt !== 'string' || typeof claims.exp !== 'number' || typeof claims.nonce !== 'string') throw bad();
  if (now > claims.exp) throw new OpsError('forbidden', 'this release link has expired');
  return claims;
}
