/**
 * @module policy/default-deny
 * A listener with defaultDeny accepts only mail attributed to SMTP AUTH or to an inbound connector
 * (matched by certificate or IP), or allow-listed by IP or sender domain (the allow list's only
 * effect; see policy/lists). Checked at MAIL FROM, when the sender domain is known, so Partner
 * connectors can be matched with their senderDomains.
 * Touches: nothing (pure).
 */
import { reject, type Check } from './context.ts';
import { allowListReason } from './lists.ts';

/** defaultDeny listener and neither authenticated, connector nor allow-listed → 'default-deny'. */
export const checkDefaultDeny: Check = (ctx, notes) => {
  if (!ctx.listener.defaultDeny) return undefined;
  if (ctx.input.authUser || ctx.match) return undefined;
  const allowed = allowListReason(ctx);
  if (allowed) {
    notes.push(allowed);
    return undefined;
  }
  return reject('default-deny', 'default-deny', { listener: ctx.listener.name, ip: ctx.input.clientIp });
};
