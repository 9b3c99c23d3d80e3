/**
 * @module policy/rules/regex-safety
 * Refuses header patterns that could take exponential time on a hostile header (ReDoS), at config
 * load: backreferences, lookaround, a quantified group that itself holds a quantifier or an
 * alternation (star height above one: `(a+)+`, `(a|aa)*`, `(\w+\s?)*`), and patterns over 256
 * characters. Everything else is compiled case-insensitive, as Exchange's
 * HeaderMatchesPatterns is. A conservative check: some safe patterns are refused, none unsafe kept.
 * Touches: nothing (pure).
 */

export const MAX_PATTERN_LENGTH = 256;

/** Why a pattern is refused, or undefined when it is accepted. */
export function unsafePatternReason(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    new RegExp(pattern, 'iu');
  } catch (e) {
    return `invalid regular expression: ${(e as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not allowed';
  if (/\(\?<?[=!]/.test(pattern)) return 'lookaround is not allowed';
  // Walk the groups: a group containing a quantifier or `|`, itself followed by a quantifier.
  const stack: { inner: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === '(') stack.push({ inner: false });
    else if (ch === ')') {
      const g = stack.pop();
      const next = pattern[i + 1];
      const quantified = next === '*' || next === '+' || next === '?' || next === '{';
      const repeats = quantified && !(next === '?' || /^\{0?,?1\}/.test(pattern.slice(i + 1)));
      if (g?.inner && repeats) return 'nested quantifier (a repeated group that repeats or alternates inside) can backtrack exponentially';
      if (g?.inner || repeats) {
        const outer = stack[stack.length - 1];
        if (outer) outer.inner = true;
      }
    } else if (ch === '*' || ch === '+' || ch === '{' || ch === '|') {
      const top = stack[stack.length - 1];
      if (top) top.inner = true;
    }
  }
  return undefined;
}
