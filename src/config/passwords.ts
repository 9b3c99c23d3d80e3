/**
 * @module config/passwords
 * SMTP AUTH password hashes: scrypt (node:crypto) with a random salt, stored as
 * `scrypt$N$r$p$saltB64$hashB64`, compared in constant time. Malformed hashes, or parameters
 * outside sane bounds (a hash from the config could otherwise ask for gigabytes), never verify.
 * Touches: nothing (CPU only).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

function scryptAsync(pw: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pw.normalize('NFC'), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hash a password: `scrypt$16384$8$1$<salt b64>$<hash b64>`. */
export async function hashPassword(pw: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(pw, salt, KEY_BYTES, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parse a stored hash; undefined when malformed or its parameters are out of bounds. */
export function parsePasswordHash(hash: string): ParsedHash | undefined {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [n, r, p] = parts.slice(1, 4).map((s) => (/^\d{1,8}$/.test(s ?? '') ? Number(s) : NaN));
  const [saltB64, keyB64] = [parts[4] ?? '', parts[5] ?? ''];
  if (n === undefined || r === undefined || p === undefined) return undefined;
  if (!(n >= 2 && n <= 1 << 20 && (n & (n - 1)) === 0)) return undefined;
  if (!(r >= 1 && r <= 32 && p >= 1 && p <= 16)) return undefined;
  if (!B64.test(saltB64) || !B64.test(keyB64)) return undefined;
  const salt = Buffer.from(saltB64, 'base64');
  const key = Buffer.from(keyB64, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 64) return undefined;
  return { n, r, p, salt, key };
}

/** True when `hash` is a well-formed scrypt hash this module can verify. */
export function isPasswordHash(hash: string): boolean {
  return parsePasswordHash(hash) !== undefined;
}

/** Verify a password against a stored hash (constant-time compare). False for malformed hashes. */
export async function verifyPassword(pw: string, hash: string): Promise<boolean> {
  const parsed = parsePasswordHash(hash);
  if (!parsed) return false;
  const { n, r, p, salt, key } = parsed;
  const maxmem = 128 * n * r * p + 1024 * 1024 * 64;
  const actual = await scryptAsync(pw, salt, key.length, { N: n, r, p, maxmem });
  return timingSafeEqual(actual, key);
}
