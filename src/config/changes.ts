/**
 * @module config/changes
 * What changed between two configuration versions, for people: a one-line summary
 * (`config history`, and the gateway's log line when it applies a version) and a line diff of the
 * YAML (`config diff`). Secrets never appear: password hashes, keys, tokens and PEM blocks are
 * replaced by a short fingerprint, so a changed secret still shows as a change.
 * Touches: nothing.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';
import { configToYaml, toReadableYaml } from './load.ts';
import type { Config } from './schema.ts';

const SECRET_KEY = /hash|secret|token|password|privatekey|^key$/i;

function fingerprint(v: string): string {
  return `<masked ${createHash('sha256').update(v).digest('hex').slice(0, 8)}>`;
}

/** A deep copy of `value` with every secret replaced by a fingerprint. */
export function maskSecrets<T>(value: T): T {
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string') return SECRET_KEY.test(key) || v.includes('-----BEGIN') ? fingerprint(v) : v;
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value, '') as T;
}

/** The YAML of a configuration with its secrets masked. */
export function maskedYaml(config: Config): string {
  // Ordered by the schema first (stable diffs), then masked: a mask is no valid hash.
  return toReadableYaml(maskSecrets(YAML.parse(configToYaml(config)) as unknown));
}

type Named = Record<string, unknown>;

const NAMED: ReadonlyArray<[keyof Config, string, string]> = [
  ['acceptedDomains', 'domain', 'domainName'],
  ['inboundConnectors', 'connector', 'name'],
  ['receiveConnectors', 'listener', 'name'],
  ['routes', 'route', 'name'],
  ['users', 'user', 'name'],
];

function changedKeys(a: Named, b: Named): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !isDeepStrictEqual(a[k], b[k]));
}

function namedChanges(before: Named[], after: Named[], noun: string, id: string): string[] {
  const key = (x: Named): string => String(x[id]).toLowerCase();
  const old = new Map(before.map((x) => [key(x), x] as const));
  const now = new Map(after.map((x) => [key(x), x] as const));
  const out: string[] = [];
  for (const [k, x] of now) {
    const o = old.get(k);
    if (!o) out.push(`+${noun} ${String(x[id])}`);
    else if (!isDeepStrictEqual(o, x)) out.push(`~${noun} ${String(x[id])} (${changedKeys(o, x).join(',')})`);
  }
  for (const [k, o] of old) if (!now.has(k)) out.push(`-${noun} ${String(o[id])}`);
  return out;
}

function listChanges(before: Config['lists'], after: Config['lists']): string[] {
  const out: string[] = [];
  for (const which of ['allow', 'block'] as const) {
    for (const field of ['ips', 'senderDomains'] as const) {
      const a = before[which][field];
      const b = after[which][field];
      for (const e of b) if (!a.includes(e)) out.push(`+${which} ${e}`);
      for (const e of a) if (!b.includes(e)) out.push(`-${which} ${e}`);
    }
  }
  return out;
}

function settingChanges(section: string, a: Named, b: Named): string[] {
  return changedKeys(a, b).map((k) => {
    const show = (v: unknown): string => (SECRET_KEY.test(k) ? '<masked>' : JSON.stringify(v) ?? 'unset');
    return `${section}.${k} ${show(a[k])}→${show(b[k])}`;
  });
}

/**
 * One line saying what changed from `before` to `after` ("initial configuration" when there is
 * no `before`): `organization.rejectDirectSend false→true; +route exo; -block 192.0.2.1`.
 */
export function summarizeChange(before: Config | undefined, after: Config): string {
  if (!before) return 'initial configuration';
  const parts: string[] = [];
  for (const section of ['organization', 'dns', 'authentication', 'queue', 'trace'] as const) {
    parts.push(...settingChanges(section, before[section] as Named, after[section] as Named));
  }
  for (const [section, noun, id] of NAMED) {
    parts.push(...namedChanges(before[section] as unknown as Named[], after[section] as unknown as Named[], noun, id));
  }
  parts.push(...listChanges(before.lists, after.lists));
  return parts.length ? parts.join('; ') : 'no change';
}

/**
 * A unified diff (`---`/`+++`, `@@` hunks with 3 lines of context) of two texts by lines, from
 * their longest common subsequence. Empty when equal.
 */
export function lineDiff(a: string, b: string, labelA: string, labelB: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  if (a === b) return '';
  // LCS lengths from the end; a configuration is a few hundred lines, so n*m stays small.
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array;
    const next = lcs[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--) row[j] = x[i] === y[j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
  }
  const ops: Array<[' ' | '-' | '+', string]> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push([' ', x[i++] ?? '']), j++;
    else if (i < n && (j >= m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) ops.push(['-', x[i++] ?? '']);
    else ops.push(['+', y[j++] ?? '']);
  }
  return [`--- ${labelA}`, `+++ ${labelB}`, ...hunks(ops)].join('\n') + '\n';
}

function hunks(ops: ReadonlyArray<[' ' | '-' | '+', string]>, context = 3): string[] {
  const out: string[] = [];
  const changed = ops.map((o, k) => (o[0] !== ' ' ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, (changed[k] ?? 0) - context);
    let end = Math.min(ops.length, (changed[k] ?? 0) + context + 1);
    while (k + 1 < changed.length && (changed[k + 1] ?? 0) - context <= end) end = Math.min(ops.length, (changed[++k] ?? 0) + context + 1);
    k++;
    const before = ops.slice(0, start);
    const lineA = before.filter((o) => o[0] !== '+').length + 1;
    const lineB = before.filter((o) => o[0] !== '-').length + 1;
    const body = ops.slice(start, end);
    out.push(`@@ -${lineA},${body.filter((o) => o[0] !== '+').length} +${lineB},${body.filter((o) => o[0] !== '-').length} @@`);
    for (const [op, text] of body) out.push(op + text);
  }
  return out;
}
