/**
 * @module ops/replay-set
 * `--set path=value` for candidate configurations (`mailgate policy replay`): a dotted path into
 * the config model (`org.` is shorthand for `organization.`; array items as `.0` or `[0]`), a value
 * parsed as true/false, a number, JSON (arrays, objects, quoted strings) or `null` (removes an
 * optional setting), else kept as a string (a setting that is a string stays a string). Each
 * change is validated at once, so a bad path or value is refused (OpsError 'invalid', the CLI
 * answers it as a usage error) naming the --set.
 * Touches: nothing (works on a copy of the config).
 */
import { configErrorLines, ConfigError, validateConfig, type Config } from '../config/index.ts';
import { OpsError } from './errors.ts';

/** A refused --set (the CLI turns it into a usage error, the API into a 422 problem). */
const invalid = (message: string): OpsError => new OpsError('invalid', message);

/** Split "a.b[2].c" into ["a", "b", 2, "c"]; "org" at the head becomes "organization". */
export function parseSetPath(path: string): (string | number)[] {
  if (!/^[A-Za-z_][\w]*(?:\.[\w]+|\[\d+\])*$/.test(path)) throw invalid(`--set ${path}: not a setting path (expected e.g. org.rejectDirectSend or inboundConnectors[0].enabled)`);
  const segs: (string | number)[] = [];
  for (const m of path.matchAll(/([A-Za-z_]\w*)|\[(\d+)\]|\.(\d+)/g)) {
    if (m[1] !== undefined) segs.push(/^\d+$/.test(m[1]) ? Number(m[1]) : m[1]);
    else segs.push(Number(m[2] ?? m[3]));
  }
  if (segs[0] === 'org') segs[0] = 'organization';
  return segs;
}

/** Parse a --set value. `current` is the value in place (a string setting keeps strings). */
export function parseSetValue(raw: string, current: unknown, label: string): unknown {
  const t = raw.trim();
  if (typeof current === 'string' && !/^["[{]/.test(t)) return raw;
  if (t === 'true' || t === '$true') return true;
  if (t === 'false' || t === '$false') return false;
  if (t === 'null') return undefined;
  if (/^-?\d+(?:\.\d+)?$/.test(t)) return Number(t);
  if (/^["[{]/.test(t)) {
    try {
      return JSON.parse(t) as unknown;
    } catch (e) {
      throw invalid(`--set ${label}: invalid JSON value: ${(e as Error).message}`);
    }
  }
  return raw;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Apply one `path=value` to a copy of `config`; returns the validated result. */
export function applySet(config: Config, assignment: string): Config {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw invalid(`--set ${assignment}: expected path=value`);
  const path = assignment.slice(0, eq).trim();
  const segs = parseSetPath(path);
  const draft = structuredClone(config) as unknown as Record<string, unknown>;
  let cur: unknown = draft;
  const walked: string[] = [];
  for (const seg of segs.slice(0, -1)) {
    walked.push(String(seg));
    const next: unknown = Array.isArray(cur) && typeof seg === 'number' ? cur[seg] : isRecord(cur) && typeof seg === 'string' ? cur[seg] : undefined;
    if (typeof next !== 'object' || next === null) throw invalid(`--set ${path}: no setting "${walked.join('.')}"`);
    cur = next;
  }
  const last = segs[segs.length - 1] as string | number;
  if (Array.isArray(cur)) {
    if (typeof last !== 'number' || last > cur.length) throw invalid(`--set ${path}: no item ${String(last)} (the list has ${cur.length})`);
    cur[last] = parseSetValue(assignment.slice(eq + 1), cur[last], path);
  } else if (isRecord(cur) && typeof last === 'string') {
    const value = parseSetValue(assignment.slice(eq + 1), cur[last], path);
    if (value === undefined) delete cur[last];
    else cur[last] = value;
  } else throw invalid(`--set ${path}: no setting "${[...walked, String(last)].join('.')}"`);
  try {
    return validateConfig(draft);
  } catch (e) {
    if (e instanceof ConfigError) throw invalid(`--set ${assignment}: ${configErrorLines(e).join('; ')}`);
    throw e;
  }
}

/** Apply every assignment in order. */
export function applySets(config: Config, assignments: readonly string[]): Config {
  return assignments.reduce(applySet, config);
}
