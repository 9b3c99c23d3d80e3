/**
 * @module policy/rules
 * Transport rules (Exchange Online mail flow rules): compile once per config version, evaluate per
 * message (pure), with Exchange's audit modes. smtp/ applies the effect; what-if and replay report it.
 * Touches: nothing (pure).
 */
export { compileRules, actionsOf, RuleCompileError, NO_RULES } from './compile.ts';
export { evaluateRules, evaluateSnapshotRules } from './evaluate.ts';
export { finalRecipients, SCL_HEADER } from './actions.ts';
export { unsafePatternReason } from './regex-safety.ts';
export * from './types.ts';
