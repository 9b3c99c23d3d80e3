/**
 * @module auth/compauth
 * The composite verdict in Exchange Online's `compauth` vocabulary, and the spoof-suspect flag.
 * Mapping (reference/exchange-online.md §7.2; mailgate has no spoof intelligence, PTR alignment or
 * sender history, so the codes that depend on them — 002, 103, 104, 115, 116, 130, 201/202, 4xx,
 * 5xx, 7xx, 9xx — are never produced):
 *   DMARC pass: DKIM and SPF aligned → pass 100; DKIM aligned only → pass 101; SPF only → pass 102.
 *   DMARC fail, policy quarantine/reject → fail 000, or fail 010 when the From domain is one of ours.
 *   DMARC fail, p=none → fail 001 (weak policy), or fail 601 when the From domain is ours.
 *   No DMARC record: an SPF or DKIM pass for the From's org domain → pass 109 ("would pass");
 *     an SPF/DKIM pass for another domain only → softpass 200 (mailgate's generic 2xx);
 *     nothing passes → fail 001 (implicit), or fail 601 when the From domain is ours.
 *   DMARC temperror/permerror with an aligned SPF/DKIM pass → pass 111.
 *   DMARC temperror otherwise → none 112 (Exchange lists 112 as "DNS timeout fetching DMARC";
 *     we keep the code but say none, since nothing passed).
 *   DMARC permerror otherwise, or no usable header From → none 300 (not checked).
 * Touches: nothing (pure).
 * RFCs: 7489 (DMARC), 8601 (result names).
 */
import type { AuthFacts, CompauthFacts } from './types.ts';

type Inputs = Pick<AuthFacts, 'spf' | 'dkim' | 'dmarc'>;

/** Organisational-domain approximation used only for the "would pass" case without DMARC. */
function sameOrg(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
}

export function compauth(f: Inputs, isOurDomain: (domain: string) => boolean = () => false): CompauthFacts {
  const { dmarc, spf, dkim } = f;
  const from = dmarc.headerFrom;
  const ours = from ? isOurDomain(from) : false;
  const aligned = dmarc.alignment.spf || dmarc.alignment.dkim;
  switch (dmarc.result) {
    case 'pass':
      if (dmarc.alignment.dkim && dmarc.alignment.spf) return { result: 'pass', reason: '100' };
      return { result: 'pass', reason: dmarc.alignment.dkim ? '101' : '102' };
    case 'fail':
      if (dmarc.policy === 'quarantine' || dmarc.policy === 'reject') return { result: 'fail', reason: ours ? '010' : '000' };
      return { result: 'fail', reason: ours ? '601' : '001' };
    case 'temperror':
      return aligned ? { result: 'pass', reason: '111' } : { result: 'none', reason: '112' };
    case 'permerror':
      return aligned ? { result: 'pass', reason: '111' } : { result: 'none', reason: '300' };
    case 'none': {
      if (!from) return { result: 'none', reason: '300' };
      const spfPass = spf.result === 'pass';
      const dkimPasses = dkim.filter((d) => d.result === 'pass');
      const wouldPass = (spfPass && sameOrg(spf.domain, from)) || dkimPasses.some((d) => sameOrg(d.domain, from));
      if (wouldPass) return { result: 'pass', reason: '109' };
      if (spfPass || dkimPasses.length > 0) return { result: 'softpass', reason: '200' };
      return { result: 'fail', reason: ours ? '601' : '001' };
    }
  }
}

/** SPF did not pass (and did not error), no DKIM signature passed, and DMARC failed. */
export function spoofSuspect(f: Inputs): boolean {
  const spfFailed = f.spf.result !== 'pass' && f.spf.result !== 'temperror';
  const dkimFailed = !f.dkim.some((d) => d.result === 'pass');
  return spfFailed && dkimFailed && f.dmarc.result === 'fail';
}
