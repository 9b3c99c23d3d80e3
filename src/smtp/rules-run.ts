/**
 * @module smtp/rules-run
 * The transport rules at end of DATA: builds the facts the rules read (envelope, header From,
 * subject, size, attribution, the authentication columns exactly as the trace stores them — so a
 * replay over the trace judges alike — and, when a rule needs them, the header fields and the body
 * scan), evaluates the policy snapshot's rules (pure), and turns the outcome into what smtp/data
 * applies: RULE trace events (rule, mode, what ran and what *would* have run), reasons, the envelope
 * recipients after redirect/bcc/add, and the facts stored with the message (header edits, SCL,
 * the disclaimer, quarantine reason).
 * Touches: nothing (pure glue; the caller writes the trace and the queue).
 */
import type { AuthFacts } from '../auth/index.ts';
import { evaluateSnapshotRules, finalRecipients, type RuleHit, type RuleOutcome } from '../policy/rules/index.ts';
import type { Attribution, PolicySnapshot } from '../policy/types.ts';
import type { TraceEvent } from '../trace/events.ts';
import { authColumns } from './auth-run.ts';
import { parseHeaderBlock, type BodyScan } from './rule-scan.ts';

export interface RuleFacts {
  mailFrom: string;
  headerFrom: string | undefined;
  recipients: readonly string[];
  clientIp: string;
  attribution: Attribution;
  subject: string | undefined;
  size: number;
  headerBlock: Buffer | undefined;
  body: BodyScan | undefined;
  auth: AuthFacts | undefined;
  now: number;
}

/** Evaluate the rules over the message (no rules: an empty outcome, nothing parsed). */
export function runRules(policy: PolicySnapshot, f: RuleFacts): RuleOutcome | undefined {
  if (policy.rules.rules.length === 0) return undefined;
  const auth = authColumns(f.auth);
  return evaluateSnapshotRules(policy, {
    mailFrom: f.mailFrom,
    headerFrom: f.headerFrom ?? '',
    recipients: f.recipients,
    clientIp: f.clientIp,
    attribution: f.attribution,
    headers: policy.rules.needsHeaders ? parseHeaderBlock(f.headerBlock) : [],
    subject: f.subject ?? '',
    bodyText: f.body?.text ?? '',
    attachments: f.body?.attachments ?? [],
    size: f.size,
    // Authenticated submission is not evaluated: its results are 'none', not unknown.
    auth: { spf: auth.spf ?? 'none', dkim: auth.dkim ?? 'none', dmarc: auth.dmarc ?? 'none', compauth: auth.compauth ?? 'none', spoofSuspect: auth.spoofSuspect ?? false },
    now: f.now,
  });
}

/** The RULE event text of a hit: "rule <name> mode=Audit ran=generateIncidentReport would-have-run=quarantine". */
export function hitDetail(h: RuleHit): string {
  const skipped = h.actions.filter((a) => !h.applied.includes(a));
  const parts = [`rule ${h.rule}`, `mode=${h.mode}`, `ran=${h.applied.join('+') || 'none'}`];
  if (skipped.length) parts.push(`would-have-run=${skipped.join('+')}`);
  return parts.join(' ');
}

/** One RULE event per hit (and a note of a redirect's original recipients). */
export function ruleEvents(id: string, at: number, o: RuleOutcome, original: readonly string[]): TraceEvent[] {
  const events: TraceEvent[] = o.hits.map((h) => ({ messageId: id, at, event: 'RULE', detail: hitDetail(h) }));
  if (o.effect.redirectTo) events.push({ messageId: id, at, event: 'RULE', detail: `redirected from ${original.join(', ')} to ${o.effect.redirectTo.join(', ')}` });
  return events;
}

/** Reasons for the trace row: rule:<name> per hit. */
export function ruleReasons(o: RuleOutcome | undefined): string[] {
  return o ? o.hits.map((h) => `rule:${h.rule}`) : [];
}

/** Envelope recipients after the rules. */
export function recipientsAfter(original: readonly string[], o: RuleOutcome | undefined): string[] {
  return o ? finalRecipients(original, o.effect) : [...original];
}

/** Facts stored with the message for delivery (header edits) and the quarantine view. */
export function ruleMessageFacts(o: RuleOutcome | undefined): Record<string, unknown> {
  if (!o) return {};
  const facts: Record<string, unknown> = {};
  if (o.effect.headerEdits.length) facts.headerEdits = o.effect.headerEdits;
  if (o.effect.scl !== undefined) facts.scl = o.effect.scl;
  if (o.effect.disclaimer !== undefined) facts.disclaimer = o.effect.disclaimer;
  if (o.hits.length) facts.ruleHits = o.hits.map((h) => ({ rule: h.rule, mode: h.mode, applied: h.applied }));
  if (o.effect.quarantine) facts.quarantine = { kind: 'rule', rule: o.effect.quarantine.rule, text: `rule ${o.effect.quarantine.rule}` };
  return facts;
}
