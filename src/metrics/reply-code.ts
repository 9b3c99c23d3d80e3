/**
 * @module metrics/reply-code
 * The code label of a reply: its enhanced status code ("550 5.7.68 …" → "5.7.68", RFC 3463) or,
 * without one, its basic code ("421 …" → "421"). Bounded by the reply table (smtp/replies.ts) and
 * the few basic codes; anything else is "other".
 * Touches: nothing.
 */
import { OTHER } from './registry.ts';

const REPLY = /^([245]\d\d)(?:[ -]([245]\.\d{1,3}\.\d{1,3})(?=\s|$))?/;

export function replyCode(reply: string | undefined): string {
  if (reply === undefined) return OTHER;
  const m = REPLY.exec(reply);
  if (!m) return OTHER;
  return m[2] ?? m[1] ?? OTHER;
}
