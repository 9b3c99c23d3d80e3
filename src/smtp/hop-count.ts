/**
 * @module smtp/hop-count
 * Counts the `Received:` fields of a message's header block (the hop count, RFC 5321 §6.3: "a
 * simple loop detection"), for Postfix's `hopcount_limit` check at end of DATA. Only field
 * names at the start of a line count, not folded continuation lines or the body.
 * Touches: nothing (pure).
 * RFCs: 5321 §4.4 (trace fields), §6.3 (loop detection), 5322 §2.2 (field names, folding).
 */

/** Number of Received header fields in `block` (the header section as received). */
export function countReceived(block: Buffer): number {
  // latin1: one char per byte, so a non-UTF-8 header cannot hide a line start.
  const text = block.toString('latin1');
  const matches = text.match(/(?:^|\n)received[ \t]*:/gi);
  return matches ? matches.length : 0;
}

/** True when a message with `received` trace fields, plus the one we add, exceeds `limit`. */
export function tooManyHops(received: number, limit: number): boolean {
  return received + 1 > limit;
}
