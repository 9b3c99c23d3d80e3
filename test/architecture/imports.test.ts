/**
 * The import rules of DESIGN.md, enforced: each folder under src/ may import only the folders
 * listed for it (some only as `import type`), so the dependency graph stays one-directional:
 * policy talks to nothing, queue never imports deliver (the agent is injected by daemon/),
 * only daemon/ wires everything. cli/ may start the daemon (`mailgate serve`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

/** folder → { any: folders importable for values; types: folders importable only with `import type` }. */
const RULES: Record<string, { any: string[]; types?: string[] }> = {
  core: { any: [] },
  policy: { any: ['core'] },
  auth: { any: ['core'] },
  trace: { any: ['core'] },
  metrics: { any: ['core'] },
  config: { any: ['core', 'policy'] }, // compile.ts builds the policy snapshot, transport rules included (policy/rules compiles them)
  queue: { any: ['core', 'metrics'], types: ['trace'] },
  deliver: { any: ['core', 'trace', 'metrics'], types: ['queue', 'config'] },
  smtp: { any: ['core', 'policy', 'auth', 'trace', 'metrics'], types: ['config', 'queue'] },
  audit: { any: ['core', 'trace', 'auth'], types: ['config'] },
  egress: { any: ['core'], types: ['config'] },
  alerts: { any: ['core', 'trace', 'metrics'], types: ['config', 'queue'] },
  stores: { any: ['core', 'config', 'trace', 'queue', 'metrics'], types: ['alerts'] }, // the adapters: implement config/, trace/, queue/ and alerts/ (store) interfaces
  ops: { any: ['core', 'config', 'policy', 'auth', 'queue', 'trace', 'audit', 'egress', 'metrics', 'alerts'] },
  api: { any: ['core', 'config', 'policy', 'auth', 'queue', 'trace', 'audit', 'egress', 'metrics', 'ops'] },
  cli: { any: ['core', 'config', 'policy', 'auth', 'queue', 'trace', 'audit', 'egress', 'metrics', 'daemon', 'smtp', 'ops', 'stores'] },
  web: { any: [] }, // the console talks HTTP only (test/architecture/web.test.ts checks .tsx and dynamic imports too)
  daemon: { any: ['core', 'config', 'policy', 'auth', 'queue', 'deliver', 'trace', 'smtp', 'audit', 'egress', 'metrics', 'api', 'ops', 'alerts', 'stores'] },
};

function files(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, out);
    else if (n.endsWith('.ts') && !n.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]/gm;

test('every src/ import follows the folder rules of DESIGN.md', () => {
  const problems: string[] = [];
  for (const f of files(SRC)) {
    const folder = relative(SRC, f).split('/')[0] ?? '';
    const rule = RULES[folder];
    if (!rule) {
      problems.push(`${relative(SRC, f)}: folder "${folder}" has no import rule`);
      continue;
    }
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[3] ?? '';
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, resolve(dirname(f), spec)).split('/')[0] ?? '';
      if (target === folder) continue;
      const typeOnly = Boolean(m[2]);
      if (rule.any.includes(target)) continue;
      if (typeOnly && rule.types?.includes(target)) continue;
      problems.push(`${relative(SRC, f)} imports ${spec} (${target}${typeOnly ? ', type only' : ''}) — not allowed for ${folder}/`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the allowed folder graph has no cycle', () => {
  const seen = new Set<string>();
  const stack = new Set<string>();
  const visit = (n: string, path: string[]): void => {
    if (stack.has(n)) assert.fail(`cycle: ${[...path, n].join(' → ')}`);
    if (seen.has(n)) return;
    stack.add(n);
    const r = RULES[n];
    for (const d of [...(r?.any ?? []), ...(r?.types ?? [])]) visit(d, [...path, n]);
    stack.delete(n);
    seen.add(n);
  };
  for (const n of Object.keys(RULES)) visit(n, []);
});

/**
 * The thin adapters (DESIGN.md: cli/ and api/ over ops/): these files reach state only through
 * ops/ — no value import of core/sqlite.ts, stores/, queue/, trace/ or audit/ (types are fine).
 */
const ADAPTERS = [
  'api/routes/queue.ts',
  'api/routes/trace.ts',
  'api/routes/reports.ts',
  'api/routes/audit.ts',
  'api/routes/lists.ts',
  'api/routes/next-hop-routes.ts',
  'api/routes/egress.ts',
  'cli/commands/queue.ts',
  'cli/commands/trace.ts',
  'cli/commands/report.ts',
  'cli/commands/report-egress.ts',
  'cli/commands/list.ts',
  'cli/commands/route.ts',
  'cli/commands/egress.ts',
  'cli/commands/policy.ts',
  'cli/commands/init.ts',
  'cli/replay.ts',
  'cli/commands/audit.ts',
  'cli/commands/audit-datasets.ts',
  'cli/commands/audit-config.ts',
];
const STATE = /^(core\/sqlite\.ts$|stores\/|queue\/|trace\/|audit\/)/;

test('api/ routes and the converted CLI commands reach stores only through ops/', () => {
  const problems: string[] = [];
  for (const rel of ADAPTERS) {
    const f = join(SRC, rel);
    for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
      const spec = m[3] ?? '';
      if (!spec.startsWith('.') || m[2]) continue;
      const target = relative(SRC, resolve(dirname(f), spec));
      if (STATE.test(target)) problems.push(`${rel} imports ${spec} (${target})`);
    }
  }
  assert.deepEqual(problems, []);
});

/**
 * cli/ and api/ are adapters over ops/: they neither import a store (core/sqlite, config/store,
 * the queue or trace stores) nor touch one they were handed (SQL, `store.update`, `withContext`).
 * api/ never does. The list of exceptions may only shrink: a file on it that no longer touches a
 * store fails the test until it is removed. cli/context.ts stays: it is where a CLI command opens
 * the data directory it hands to ops/ (and where `mailgate init` creates it).
 */
const STORE_USE = /from\s+['"][^'"]*(core\/sqlite|config\/store|queue\/store|trace\/store)(\.ts)?['"]|\bConfigStore\b|\bQueueStore\b|\bopenDatabase\(|\.prepare\(|\bstore\.(update|save|current|get|history|currentVersion)\(|\bwithContext\(/;
const STILL_TOUCHING_STORES = new Set([
  'cli/context.ts',
]);

test('cli/ and api/ reach the stores only through ops/ (known CLI exceptions may only shrink)', () => {
  const problems: string[] = [];
  for (const folder of ['cli', 'api']) {
    for (const f of files(join(SRC, folder))) {
      const rel = relative(SRC, f);
      const touches = STORE_USE.test(readFileSync(f, 'utf8'));
      if (touches && !STILL_TOUCHING_STORES.has(rel)) problems.push(`${rel} touches a store itself: call an ops/ function`);
      if (!touches && STILL_TOUCHING_STORES.has(rel)) problems.push(`${rel} no longer touches a store: remove it from STILL_TOUCHING_STORES`);
    }
  }
  for (const rel of STILL_TOUCHING_STORES) assert.ok(rel.startsWith('cli/'), `${rel}: api/ never touches a store`);
  assert.deepEqual(problems, []);
});
