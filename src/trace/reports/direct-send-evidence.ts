/**
 * @module trace/reports/direct-send-evidence
 * The evidence a Direct Send source's class rests on, counted over its messages: the recorded
 * SPF/DKIM/DMARC/CompAuth results (the gateway's auth stage, or an export's AuthenticationDetails /
 * custom_data, any subset), and Exchange Online's own verdicts on imported rows (trace/exo-verdicts):
 * - held back: Status Quarantined / FilteredAsSpam / Failed, DeliveryAction Junked / Blocked,
 *   DeliveryLocation Quarantine / Junk / Failed / Dropped, custom_data SFV=SPM|BLK, ThreatTypes or
 *   CAT naming spam;
 * - phishing: ThreatTypes Phish / Malware, CAT PHSH / HPHSH / MALW;
 * - spoofing: DetectionMethods or CAT naming spoofing or impersonation (e.g. {"Phish":["Spoof intra-org"]}, CAT=SPOOF).
 * `flags()` turns the counts into the signal lines the report shows ("Status Quarantined 2/2").
 * Reference: exchange-online.md §5.2 (Status values), §6.1 (EmailEvents columns), §7.1 (SFV, CAT), §7.2.
 * Touches: nothing (pure).
 */
import { EXO_VERDICT_FIELD, type ExoVerdicts } from '../exo-verdicts.ts';

/** Counts over one source's messages. */
export interface Evidence {
  messages: number;
  spfKnown: number;
  spfPass: number;
  dkimKnown: number;
  dkimPass: number;
  dmarcKnown: number;
  dmarcPass: number;
  /** Messages with SPF and DMARC recorded, and those that failed both (SPF fail/softfail, DMARC fail, DKIM not pass). */
  spfDmarcKnown: number;
  spfDmarcFailed: number;
  compauthKnown: number;
  compauthFail: number;
  compauthPass: number;
  /** Messages carrying a delivery verdict of Exchange, and how many of them it held back. */
  verdictKnown: number;
  held: number;
  phish: number;
  spoof: number;
  /** "field value" → messages, for the signal lines. */
  heldBy: Map<string, number>;
  phishBy: Map<string, number>;
  spoofBy: Map<string, number>;
}

export function newEvidence(): Evidence {
  return {
    messages: 0, spfKnown: 0, spfPass: 0, dkimKnown: 0, dkimPass: 0, dmarcKnown: 0, dmarcPass: 0, spfDmarcKnown: 0, spfDmarcFailed: 0,
    compauthKnown: 0, compauthFail: 0, compauthPass: 0, verdictKnown: 0, held: 0, phish: 0, spoof: 0,
    heldBy: new Map(), phishBy: new Map(), spoofBy: new Map(),
  };
}

const norm = (s: string): string => s.trim().toLowerCase().replace(/[\s_/-]/g, '');
const HELD_STATUS = new Set(['quarantined', 'filteredasspam', 'failed', 'fail', 'drop', 'dropped']);
const DELIVERED_STATUS = new Set(['delivered', 'deliver', 'expanded', 'send', 'resolved']);
const HELD_ACTION = new Set(['junked', 'blocked']);
const HELD_LOCATION = /^(quarantine|junk|failed|dropped)/;
const HELD_SFV = new Set(['spm', 'blk']);
const PHISH_CAT = new Set(['phsh', 'hphsh', 'hphish', 'malw', 'amp']);
const SPOOF_CAT = new Set(['spoof', 'uimp', 'dimp', 'gimp', 'oimp']);
const SPAM_CAT = new Set(['spm', 'hspm', 'bulk']);

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** Recorded verdict words (lower case, 'unknown' when absent) and Exchange's verdicts of one message. */
export interface MessageFacts {
  spf: string;
  dkim: string;
  dmarc: string;
  compauth: string;
  exo?: ExoVerdicts | undefined;
}

function addExo(e: Evidence, v: ExoVerdicts): void {
  const held = new Set<string>();
  let delivered = false;
  const f = (k: keyof ExoVerdicts, val: string): string => `${EXO_VERDICT_FIELD[k]} ${val}`;
  if (v.status) {
    const s = norm(v.status);
    if (HELD_STATUS.has(s)) held.add(f('status', v.status));
    else if (DELIVERED_STATUS.has(s)) delivered = true;
  }
  if (v.deliveryAction) {
    const a = norm(v.deliveryAction);
    if (HELD_ACTION.has(a)) held.add(f('deliveryAction', v.deliveryAction));
    else if (a === 'delivered') delivered = true;
  }
  if (v.deliveryLocation && HELD_LOCATION.test(norm(v.deliveryLocation))) held.add(f('deliveryLocation', v.deliveryLocation));
  if (v.sfv && HELD_SFV.has(norm(v.sfv))) held.add(f('sfv', v.sfv));
  const phish = new Set<string>();
  const spoof = new Set<string>();
  for (const t of (v.threatTypes ?? '').split(/[\s,;]+/).filter(Boolean)) {
    const n = norm(t);
    if (n === 'phish' || n === 'malware') phish.add(f('threatTypes', t));
    else if (n === 'spam') held.add(f('threatTypes', t));
  }
  if (v.cat) {
    const c = norm(v.cat);
    if (PHISH_CAT.has(c)) phish.add(f('cat', v.cat));
    else if (SPOOF_CAT.has(c)) spoof.add(f('cat', v.cat));
    else if (SPAM_CAT.has(c)) held.add(f('cat', v.cat));
  }
  if (v.detectionMethods && /spoof|impersonat/i.test(v.detectionMethods)) spoof.add(f('detectionMethods', v.detectionMethods.replace(/\s+/g, ' ').slice(0, 80)));
  if (held.size || delivered) e.verdictKnown++;
  if (held.size) e.held++;
  if (phish.size) e.phish++;
  if (spoof.size) e.spoof++;
  for (const h of held) bump(e.heldBy, h);
  for (const p of phish) bump(e.phishBy, p);
  for (const s of spoof) bump(e.spoofBy, s);
}

/** Count one message. */
export function addEvidence(e: Evidence, m: MessageFacts): void {
  e.messages++;
  const failed = (w: string): boolean => w === 'fail' || w === 'softfail';
  if (m.spf !== 'unknown') {
    e.spfKnown++;
    if (m.spf === 'pass') e.spfPass++;
  }
  if (m.dkim !== 'unknown') {
    e.dkimKnown++;
    if (m.dkim === 'pass') e.dkimPass++;
  }
  if (m.dmarc !== 'unknown') {
    e.dmarcKnown++;
    if (m.dmarc === 'pass') e.dmarcPass++;
  }
  if (m.spf !== 'unknown' && m.dmarc !== 'unknown') {
    e.spfDmarcKnown++;
    if (failed(m.spf) && m.dmarc === 'fail' && m.dkim !== 'pass') e.spfDmarcFailed++;
  }
  if (m.compauth !== 'unknown') {
    e.compauthKnown++;
    if (m.compauth === 'fail') e.compauthFail++;
    if (m.compauth === 'pass') e.compauthPass++;
  }
  if (m.exo) addExo(e, m.exo);
}

const lines = (m: ReadonlyMap<string, number>, of: number): string[] => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `${k} ${n}/${of}`);

/**
 * The signals by which Exchange itself (or the recorded CompAuth) treated the source as unwanted:
 * phishing or spoofing on any message, every message with a delivery verdict held back, or
 * CompAuth fail on every message that has one. Empty when there are none.
 */
export function exchangeFlags(e: Evidence): string[] {
  const out = [...lines(e.phishBy, e.messages), ...lines(e.spoofBy, e.messages)];
  if (e.verdictKnown > 0 && e.held === e.verdictKnown) out.push(...lines(e.heldBy, e.messages));
  if (e.compauthKnown > 0 && e.compauthFail === e.compauthKnown) out.push(`CompAuth fail ${e.compauthFail}/${e.messages}`);
  return out;
}

/** True when Exchange named phishing or spoofing (stronger than being held back as spam). */
export function phishOrSpoof(e: Evidence): boolean {
  return e.phish > 0 || e.spoof > 0;
}

/** The recorded authentication results as signal lines (only those recorded). */
export function authLines(e: Evidence): string[] {
  const out: string[] = [];
  if (e.spfKnown) out.push(`recorded SPF pass ${e.spfPass}/${e.spfKnown}`);
  if (e.dkimKnown) out.push(`DKIM pass ${e.dkimPass}/${e.dkimKnown}`);
  if (e.dmarcKnown) out.push(`DMARC pass ${e.dmarcPass}/${e.dmarcKnown}`);
  if (e.compauthKnown) out.push(`CompAuth pass ${e.compauthPass}/${e.compauthKnown}`);
  if (e.verdictKnown) out.push(`Exchange held back ${e.held}/${e.verdictKnown}`);
  return out;
}
