/**
 * @module policy/rules/compile
 * Compiles the configured transport rules once per config version (config/compile calls it): checks
 * names are unique, priorities unique and contiguous from 0 (as Exchange keeps them, §8.1), dates
 * valid, at least one action, patterns safe; builds each condition's predicate; sorts by priority.
 * A bad rule throws RuleCompileError naming its path ("transportRules[2].conditions.headerMatchesPatterns.patterns[0]"),
 * so it is refused at load like every other config error.
 * Touches: nothing (pure).
 */
import { ConditionError, compileConditions } from './conditions.ts';
import { ACTION_NAMES, type ActionName, type CompiledRule, type CompiledRules, type RuleActionsSpec, type RuleSpec } from './types.ts';

export class RuleCompileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'RuleCompileError';
  }
}

/** The actions a rule has, in ACTION_NAMES order. */
export function actionsOf(a: RuleActionsSpec): ActionName[] {
  return ACTION_NAMES.filter((n) => {
    const v = a[n];
    if (v === undefined || v === false) return false;
    return !(Array.isArray(v) && v.length === 0);
  });
}

function date(value: string | undefined, path: string): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new RuleCompileError(path, `not a date: "${value}"`);
  return t;
}

function compileOne(spec: RuleSpec, path: string): CompiledRule {
  const actions = actionsOf(spec.actions);
  if (actions.length === 0) throw new RuleCompileError(`${path}.actions`, 'a rule needs at least one action');
  const activation = date(spec.activationDate, `${path}.activationDate`);
  const expiry = date(spec.expiryDate, `${path}.expiryDate`);
  if (activation !== undefined && expiry !== undefined && expiry <= activation) throw new RuleCompileError(`${path}.expiryDate`, 'expiryDate must be after activationDate');
  const section = (which: 'conditions' | 'exceptions'): CompiledRule['conditions'] => {
    try {
      return compileConditions(spec[which], spec.senderAddressLocation);
    } catch (e) {
      if (e instanceof ConditionError) throw new RuleCompileError(`${path}.${which}.${e.field}`, e.message);
      throw e;
    }
  };
  return { spec, enabled: spec.state === 'Enabled', activation, expiry, conditions: section('conditions'), exceptions: section('exceptions'), actions };
}

/** Compile every rule; throws RuleCompileError with the offending path. */
export function compileRules(specs: readonly RuleSpec[], path = 'transportRules'): CompiledRules {
  const names = new Set<string>();
  const priorities = new Map<number, number>();
  specs.forEach((r, i) => {
    const k = r.name.toLowerCase();
    if (names.has(k)) throw new RuleCompileError(`${path}[${i}].name`, `duplicate rule name "${r.name}"`);
    names.add(k);
    const other = priorities.get(r.priority);
    if (other !== undefined) throw new RuleCompileError(`${path}[${i}].priority`, `priority ${r.priority} is also the priority of ${path}[${other}]`);
    priorities.set(r.priority, i);
  });
  specs.forEach((r, i) => {
    if (r.priority >= specs.length) throw new RuleCompileError(`${path}[${i}].priority`, `priorities are contiguous from 0 (as in Exchange): with ${specs.length} rule(s) the highest is ${specs.length - 1}`);
  });
  const rules = specs.map((r, i) => compileOne(r, `${path}[${i}]`)).sort((a, b) => a.spec.priority - b.spec.priority);
  const enabled = rules.filter((r) => r.enabled);
  const all = enabled.flatMap((r) => [...r.conditions, ...r.exceptions]);
  return { rules, needsBody: all.some((c) => c.needsBody), needsHeaders: all.some((c) => c.needsHeaders) };
}

/** No rules (the default). */
export const NO_RULES: CompiledRules = Object.freeze({ rules: Object.freeze([]) as readonly CompiledRule[], needsBody: false, needsHeaders: false });
