/**
 * @module policy/evaluate
 * The policy entry point smtp/ calls at every stage (Postfix smtpd_check_client/helo/mail/rcpt/data/
 * eod): computes the attribution of the facts once, runs the stage's checks in order, and returns the
 * first refusal, or `continue`. Every verdict carries the attribution and short machine reasons.
 *
 * Order per stage:
 * - connect: scoped listener (remoteIPRanges) → IP block list.
 * - helo, data: nothing (continue).
 * - mail: access re-check → IP / sender-domain block → requireAuth → sendAs → connector requireTls →
 *   defaultDeny (allow list exempts).
 * - rcpt: routing syntax / relay → recipient limit → Partner restrictions (5.7.51) → RejectDirectSend (5.7.68).
 * - eod: header From shape of anonymous mail (one field, one address, no group) → RejectDirectSend
 *   (MAIL FROM re-check, and every header From address when enabled) → DMARC policy
 *   (honorDmarcPolicy: p=reject → 5.7.509, p=quarantine → hold).
 * Touches: nothing (pure, synchronous: no I/O, no clock, no process.env). RFCs: 5321 §4.1.1, §3.6.
 */
import { checkAccess } from './access.ts';
import { attributeWith, matchConnector } from './attribute.ts';
import { checkAuthRequired, checkSendAs } from './auth.ts';
import { checkConnectorTls } from './connector-tls.ts';
import { listenerOf, type Check, type CheckContext, type Refusal } from './context.ts';
import { checkDefaultDeny } from './default-deny.ts';
import { checkDirectSend, checkDirectSendAtEod } from './direct-send.ts';
import { checkDmarc } from './dmarc.ts';
import { checkHeaderFromShape } from './header-from.ts';
import { checkLists } from './lists.ts';
import { checkRecipientLimit, checkRelay } from './relay.ts';
import { checkPartnerRestrictions } from './restrictions.ts';
import type { Attribution, PolicyInput, PolicySnapshot, Stage, Verdict } from './types.ts';

/** The checks of a stage, in the order they run. */
export function checksFor(stage: Stage): readonly Check[] {
  switch (stage) {
    case 'connect':
      return [checkAccess];
    case 'helo':
    case 'data':
      return [];
    case 'mail':
      return [checkAccess, checkLists, checkAuthRequired, checkSendAs, checkConnectorTls, checkDefaultDeny];
    case 'rcpt':
      return [checkRelay, checkRecipientLimit, checkPartnerRestrictions, checkDirectSend];
    case 'eod':
      return [checkHeaderFromShape, checkDirectSendAtEod, checkDmarc];
    default: {
      const never: never = stage;
      throw new TypeError(`unknown stage ${String(never)}`);
    }
  }
}

/** The short reason naming an attribution ('connector:ip', 'direct-send:mail-from', …). */
export function attributionReason(a: Attribution): string {
  switch (a.kind) {
    case 'authenticated':
      return 'authenticated';
    case 'connector':
      return `connector:${a.matchedBy}`;
    case 'direct-send':
      return `direct-send:${a.basis}`;
    case 'anonymous-external':
      return 'anonymous-external';
    case 'relay-denied':
      return 'relay:denied';
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

/** Run checks in order; the first refusal wins. */
function firstRefusal(checks: readonly Check[], ctx: CheckContext, notes: string[]): Refusal | undefined {
  for (const check of checks) {
    const r = check(ctx, notes);
    if (r) return r;
  }
  return undefined;
}

/** Decide one stage. Pure and synchronous. */
export function evaluate(stage: Stage, input: PolicyInput, snap: PolicySnapshot): Verdict {
  const match = matchConnector(input, snap);
  const attribution = attributeWith(input, snap, match, stage);
  const ctx: CheckContext = { input, snap, listener: listenerOf(input, snap), attribution, match };
  const reasons = [attributionReason(attribution)];
  const refusal = firstRefusal(checksFor(stage), ctx, reasons);
  if (!refusal) return { action: 'continue', attribution, reasons };
  if (!reasons.includes(refusal.reason)) reasons.push(refusal.reason);
  if (refusal.action === 'quarantine') return { action: 'quarantine', reply: 'dmarc-quarantine', attribution, reasons, vars: refusal.vars ?? {} };
  const verdict: Verdict = { action: refusal.action, reply: refusal.reply, attribution, reasons };
  if (refusal.vars) verdict.vars = refusal.vars;
  return verdict;
}
