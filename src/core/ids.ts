/**
 * @module core/ids
 * Identifiers that follow a message everywhere: a ConnectionId assigned at connect and a QueueId
 * assigned at MAIL FROM (connection id + transaction counter is too long for a reply, so the queue
 * id is its own short, sortable, unique string). Both appear in logs, trace rows, spool file names
 * and every 4xx/5xx reply.
 * Touches: nothing (crypto randomness only).
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U

/** `width` base32 digits of a non-negative integer below 2^53 (plain numbers: no BigInt per id). */
function base32(value: number, width: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[v % 32] + out;
    v = Math.floor(v / 32);
  }
  return out;
}

// Random bytes are drawn from a pool refilled 4 KiB at a time: one call into the CSPRNG per ~700
// ids instead of one per id (ids are unique, not secret: they appear in every reply).
const pool = Buffer.alloc(4096);
let poolPos = pool.length;

function randomUInt(bytes: number): number {
  if (poolPos + bytes > pool.length) {
    randomFillSync(pool);
    poolPos = 0;
  }
  const v = pool.readUIntBE(poolPos, bytes);
  poolPos += bytes;
  return v;
}

/** A queue id: 10 chars of millisecond time + 8 random chars; sorts by arrival, safe in file names. */
export function newQueueId(nowMs: number = Date.now()): string {
  return base32(nowMs, 10) + base32(randomUInt(5), 8);
}

/** A connection id: shorter, random; unique enough within a trace window. */
export function newConnectionId(): string {
  return 'C' + base32(randomUInt(6), 10);
}

/** True for strings produced by newQueueId (used to validate CLI arguments and spool names). */
export function isQueueId(s: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{18}$/.test(s);
}
