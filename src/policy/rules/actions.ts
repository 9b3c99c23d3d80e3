/**
 * @module policy/rules/actions
 * What each action does to the combined effect (reference §8.3): the first terminal action
 * (rejectMessage, quarantine, deleteMessage — in that order of precedence within a rule) wins;
 * redirectMessageTo replaces the recipients (the original recipients and the sender are not told);
 * blindCopyTo and addToRecipients add envelope recipients; prependSubject, setHeader and removeHeader
 * become header edits applied to the message as it leaves; setScl writes X-MS-Exchange-Organization-SCL
 * (an input to a filter downstream, as in Exchange, never a verdict here); applyHtmlDisclaimer puts
 * a banner at the top of the body on the way out (one: the first rule's); generateIncidentReport
 * names an address to receive the report.
 * Touches: nothing (pure).
 */
import type { ActionName, HeaderEdit, RuleEffect, RuleSpec } from './types.ts';

/** The header setScl writes (Exchange's organization SCL header). */
export const SCL_HEADER = 'X-MS-Exchange-Organization-SCL';

/** A mutable effect, built up rule by rule. */
export interface EffectBuilder extends RuleEffect {
  addRecipients: string[];
  headerEdits: HeaderEdit[];
  incidentReports: Array<{ rule: string; to: string }>;
  notify: string[];
}

export function emptyEffect(): EffectBuilder {
  return { addRecipients: [], headerEdits: [], incidentReports: [], notify: [] };
}

/** Apply one action of `rule` to the effect. */
export function actionEffect(e: EffectBuilder, action: ActionName, rule: RuleSpec): void {
  const a = rule.actions;
  const name = rule.name;
  const terminal = e.reject !== undefined || e.quarantine !== undefined || e.delete !== undefined;
  switch (action) {
    case 'rejectMessage':
      if (!terminal && a.rejectMessage) e.reject = { rule: name, enhanced: a.rejectMessage.enhancedStatusCode, text: a.rejectMessage.reasonText };
      return;
    case 'quarantine':
      if (!terminal) e.quarantine = { rule: name };
      return;
    case 'deleteMessage':
      if (!terminal) e.delete = { rule: name };
      return;
    case 'redirectMessageTo':
      e.redirectTo = [...(e.redirectTo ?? []), ...(a.redirectMessageTo ?? [])];
      return;
    case 'blindCopyTo':
      e.addRecipients.push(...(a.blindCopyTo ?? []));
      return;
    case 'addToRecipients':
      e.addRecipients.push(...(a.addToRecipients ?? []));
      return;
    case 'prependSubject':
      if (a.prependSubject) e.headerEdits.push({ op: 'prepend-subject', text: a.prependSubject });
      return;
    case 'setHeader':
      if (a.setHeader) e.headerEdits.push({ op: 'set', name: a.setHeader.name, value: a.setHeader.value });
      return;
    case 'removeHeader':
      if (a.removeHeader) e.headerEdits.push({ op: 'remove', name: a.removeHeader });
      return;
    case 'setScl':
      if (a.setScl !== undefined) {
        e.scl = a.setScl;
        e.headerEdits.push({ op: 'set', name: SCL_HEADER, value: String(a.setScl) });
      }
      return;
    case 'applyHtmlDisclaimer':
      if (a.applyHtmlDisclaimer && e.disclaimer === undefined) e.disclaimer = a.applyHtmlDisclaimer.text;
      return;
    case 'generateIncidentReport':
      if (a.generateIncidentReport) e.incidentReports.push({ rule: name, to: a.generateIncidentReport });
      return;
    default: {
      const never: never = action;
      throw new TypeError(`unknown action ${String(never)}`);
    }
  }
}

/** The recipients after the effect: redirect replaces them, then the added ones (deduplicated, case-insensitively). */
export function finalRecipients(original: readonly string[], e: RuleEffect): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const r of [...(e.redirectTo ?? original), ...e.addRecipients]) {
    const k = r.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}
