/**
 * @module policy/dmarc
 * Honouring the sender domain's DMARC policy at end of DATA (Exchange's anti-phishing "Honor DMARC
 * record policy"): DMARC fail with p=reject → 550 5.7.509 (reference §7.3: the NDR-table text is
 * implemented, the newer 5.7.1 row is unconfirmed); p=quarantine → accepted into quarantine (queue
 * state hold). pct= is applied with the message's stable sample number, so the decision for one
 * message never changes between the gateway and a replay.
 * Exempt, as Exchange does: authenticated submission and mail through an OnPremises connector (your
 * own servers; complex routing, compauth 905). A temperror for a domain whose record says
 * p=reject fails closed with a 4xx (convention 3); with no known policy it passes.
 * Touches: nothing (pure). RFCs: 7489 §6.6.4 (policy), §6.6.4 pct sampling.
 */
import { reject, tempfail, type Check, type Refusal } from './context.ts';

/** EOD stage: the DMARC policy of the header From domain, when honorDmarcPolicy is on. */
export const checkDmarc: Check = (ctx, notes) => {
  const auth = ctx.input.auth;
  if (!ctx.snap.organization.honorDmarcPolicy || !auth) return undefined;
  const a = ctx.attribution;
  if (a.kind === 'authenticated' || (a.kind === 'connector' && a.connectorType === 'OnPremises')) {
    if (auth.dmarc === 'fail') notes.push('dmarc:exempt');
    return undefined;
  }
  const domain = auth.dmarcDomain ?? '';
  if (auth.dmarc === 'temperror' && auth.dmarcPolicy === 'reject') return tempfail('dmarc-tempfail', 'dmarc:temperror', { domain });
  if (auth.dmarc !== 'fail') return undefined;
  const pct = auth.dmarcPct ?? 100;
  const sampled = (auth.sample ?? 0) < pct;
  if (!sampled) {
    notes.push(`dmarc:pct-excluded`);
    return undefined;
  }
  if (auth.dmarcPolicy === 'reject') return reject('dmarc-reject', 'dmarc:reject', { domain });
  if (auth.dmarcPolicy === 'quarantine') return quarantine(domain);
  return undefined;
};

function quarantine(domain: string): Refusal {
  return { action: 'quarantine', reply: 'dmarc-quarantine', reason: 'dmarc:quarantine', vars: { domain } };
}
