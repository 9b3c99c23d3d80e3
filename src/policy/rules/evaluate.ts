/**
 * @module policy/rules/evaluate
 * Runs the compiled rules over one message, in priority order (reference §8.1): a rule applies when it
 * is enabled, inside its activation/expiry window, every condition holds and no exception does. Audit
 * modes exactly as Exchange (§5.5, §8.1): in Audit and AuditAndNotify no action that affects delivery
 * runs — the hit is recorded with the actions that *would* have run; incident reports still go out,
 * and AuditAndNotify adds the rule to `notify`. In Enforce, quarantine, reject and delete end rule
 * processing (Exchange: "rule evaluation stops after it"), as does stopRuleProcessing; an audit-mode
 * rule never stops later rules (that would change delivery). A rule whose conditions lack facts
 * (undefined) is neither applied nor skipped silently: it is listed in `undetermined`.
 * Touches: nothing (pure, synchronous; the clock comes in as `message.now`).
 */
import { isAccepted } from '../domains.ts';
import type { PolicySnapshot } from '../types.ts';
import { actionEffect, emptyEffect } from './actions.ts';
import { REPORT_ONLY_ACTIONS, type CompiledCondition, type CompiledRules, type RuleContext, type RuleHit, type RuleMessage, type RuleOutcome } from './types.ts';

type Tri = boolean | undefined;

/** Every condition holds (true), one fails (false), else undefined with the unknown ones named. */
function all(conds: readonly CompiledCondition[], m: RuleMessage, ctx: RuleContext, unknown: string[]): Tri {
  let result: Tri = true;
  for (const c of conds) {
    const r = c.test(m, ctx);
    if (r === false) return false;
    if (r === undefined) {
      unknown.push(c.name);
      result = undefined;
    }
  }
  return result;
}

/** Some exception holds (true), none can (false), else undefined. */
function any(conds: readonly CompiledCondition[], m: RuleMessage, ctx: RuleContext, unknown: string[]): Tri {
  let result: Tri = false;
  for (const c of conds) {
    const r = c.test(m, ctx);
    if (r === true) return true;
    if (r === undefined) {
      unknown.push(`except ${c.name}`);
      result = undefined;
    }
  }
  return result;
}

/** Evaluate the rules over one message. */
export function evaluateRules(compiled: CompiledRules, m: RuleMessage, ctx: RuleContext): RuleOutcome {
  const hits: RuleHit[] = [];
  const undetermined: string[] = [];
  const effect = emptyEffect();
  for (const rule of compiled.rules) {
    if (!rule.enabled) continue;
    if (rule.activation !== undefined && m.now < rule.activation) continue;
    if (rule.expiry !== undefined && m.now >= rule.expiry) continue;
    const unknown: string[] = [];
    const matched = all(rule.conditions, m, ctx, unknown);
    if (matched === false) continue;
    const excepted = any(rule.exceptions, m, ctx, unknown);
    if (excepted === true) continue;
    if (matched === undefined || excepted === undefined) {
      undetermined.push(`${rule.spec.name}: ${unknown.join(', ')}`);
      continue;
    }
    const enforce = rule.spec.mode === 'Enforce';
    const applied = enforce ? rule.actions : rule.actions.filter((a) => REPORT_ONLY_ACTIONS.has(a));
    hits.push({ rule: rule.spec.name, priority: rule.spec.priority, mode: rule.spec.mode, actions: rule.actions, applied });
    for (const a of applied) actionEffect(effect, a, rule.spec);
    if (rule.spec.mode === 'AuditAndNotify') effect.notify.push(rule.spec.name);
    if (enforce && (effect.reject || effect.quarantine || effect.delete || rule.spec.stopRuleProcessing)) break;
  }
  return { hits, effect, undetermined };
}

/** Evaluate the snapshot's rules (accepted domains from the snapshot). */
export function evaluateSnapshotRules(snap: PolicySnapshot, m: RuleMessage): RuleOutcome {
  return evaluateRules(snap.rules, m, { isAcceptedDomain: (d) => isAccepted(d, snap) });
}
