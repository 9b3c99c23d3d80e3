/**
 * @module config/diff
 * What an installation changed from the defaults (`config show --changed`, like `postconf -n`):
 * plain objects are compared key by key, arrays and scalars whole.
 * Touches: nothing.
 */
import { isDeepStrictEqual } from 'node:util';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The settings of `config` that differ from `defaults`, as a partial object of the same shape.
 * Objects recurse (an object with no differences is left out); arrays are compared whole.
 */
export function changedSettings(config: object, defaults: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const base = defaults as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    const def = base[key];
    if (isPlainObject(value) && isPlainObject(def)) {
      const sub = changedSettings(value, def);
      if (Object.keys(sub).length) out[key] = sub;
    } else if (!isDeepStrictEqual(value, def)) {
      out[key] = value;
    }
  }
  return out;
}
