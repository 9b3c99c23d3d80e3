/**
 * @module policy/direct-send
 * RejectDirectSend (Exchange Online 550 5.7.68 "TenantInboundAttribution; Direct Send not allowed for
 * this organization from unauthorized sources"): anonymous mail (no AUTH, no connector matched by IP
 * or certificate) whose MAIL FROM domain is accepted, to the organization, is refused at RCPT TO
 * (open question 1: the phase is inferred). Subdomains count only under matchSubDomains (policy/domains).
 *
 * Beyond Exchange: with organization.rejectDirectSendHeaderFrom, the rule also applies at end of DATA
 * to the header From (P2), every address of every From field. DECISION: the eod stage also re-checks the MAIL FROM basis, so a
 * RejectDirectSend switched on mid-transaction still applies (fail closed). The null sender is never
 * Direct Send by the envelope (see policy/attribute).
 * Touches: nothing (pure). RFCs: 5321 §4.1.1.3, 5322 §3.6.2 (From).
 */
import { reject, type Check, type CheckContext, type Refusal } from './context.ts';
import { headerFromDomainsOf, isAccepted, senderDomainOf } from './domains.ts';

/** The header From domain to name: the first accepted one (every address counts). */
function headerFromDomain(ctx: CheckContext): string {
  const all = headerFromDomainsOf(ctx.input);
  return all.find((d) => isAccepted(d, ctx.snap)) ?? all[0] ?? '';
}

function refuse(ctx: CheckContext, basis: 'mail-from' | 'header-from'): Refusal {
  const domain = basis === 'mail-from' ? (senderDomainOf(ctx.input) ?? '') : headerFromDomain(ctx);
  return reject('direct-send-rejected', `direct-send:${basis}`, { domain });
}

/** RCPT stage: Direct Send by MAIL FROM with RejectDirectSend on → 'direct-send-rejected'. */
export const checkDirectSend: Check = (ctx) => {
  const a = ctx.attribution;
  if (!ctx.snap.organization.rejectDirectSend || a.kind !== 'direct-send' || a.basis !== 'mail-from') return undefined;
  return refuse(ctx, 'mail-from');
};

/**
 * EOD stage: Direct Send by either basis with RejectDirectSend on. The header-from basis exists
 * only when rejectDirectSendHeaderFrom is on (policy/attribute).
 */
export const checkDirectSendAtEod: Check = (ctx) => {
  const a = ctx.attribution;
  if (!ctx.snap.organization.rejectDirectSend || a.kind !== 'direct-send') return undefined;
  return refuse(ctx, a.basis);
};
