/**
 * @module core/ids
 * Identifiers that follow a message everywhere: a ConnectionId assigned at connect and a QueueId
 * assigned at MAIL FROM (connection id + transaction counter is too long for a reply, so the queue
 * id is its own short, sortable, unique string). Both appear in logs, trace rows, spool file names
 * and every 4xx/5xx reply.
 * Touches: nothing (crypto randomness only).
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U

function base32(value: bigint, width: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[Number(v & 31n)] + out;
    v >>= 5n;
  }
  return out;
}

/** A queue id: 10 chars of millisecond time + 8 random chars; sorts by arrival, safe in file names. */
export function newQueueId(nowMs: number = Date.now()): string {
  const rnd = randomBytes(5).readUIntBE(0, 5);
  return base32(BigInt(nowMs), 10) + base32(BigInt(rnd), 8);
}

/** A connection id: shorter, random; unique enough within a trace window. */
export function newConnectionId(): string {
  return 'C' + base32(BigInt(randomBytes(6).readUIntBE(0, 6)), 10);
}

/** True for strings produced by newQueueId (used to validate CLI arguments and spool names). */
export function isQueueId(s: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{18}$/.test(s);
}
