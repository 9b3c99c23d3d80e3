/**
 * @module test/golden/rules
 * Golden tests for transport rules: every `rules/*.yaml` holds a mailgate config (accepted domains,
 * connectors, transportRules) and cases (message facts → rule hits, the combined effect, and what
 * could not be judged). Configs go through the real configSchema and compilePolicy, messages through
 * evaluateSnapshotRules. `refused:` entries are configs that must be refused at load with the path
 * named. The runner asserts every condition, exception and action appears in some case.
 * Touches: reads test/golden/rules/*.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { compilePolicy, ConfigError } from '../../src/config/compile.ts';
import { configSchema } from '../../src/config/schema.ts';
import { ACTION_NAMES, evaluateSnapshotRules, type RuleMessage } from '../../src/policy/rules/index.ts';
import type { PolicySnapshot } from '../../src/policy/index.ts';

const caseSchema = z
  .object({
    name: z.string(),
    message: z.record(z.string(), z.unknown()).default({}),
    expect: z
      .object({
        hits: z.array(z.object({ rule: z.string(), mode: z.string().optional(), applied: z.array(z.string()).optional() }).strict()),
        effect: z.record(z.string(), z.unknown()).optional(),
        undetermined: z.array(z.string()).optional(),
      })
      .strict(),
  })
  .strict();

const fileSchema = z
  .object({
    description: z.string().optional(),
    config: z.record(z.string(), z.unknown()).default({}),
    defaults: z.record(z.string(), z.unknown()).optional(),
    cases: z.array(caseSchema).default([]),
    refused: z.array(z.object({ name: z.string(), rules: z.array(z.unknown()), path: z.string(), reason: z.string().optional() }).strict()).default([]),
  })
  .strict();

type GoldenFile = z.infer<typeof fileSchema>;

const dir = new URL('./rules/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function snapshotFor(config: Record<string, unknown>): PolicySnapshot {
  return compilePolicy(configSchema.parse({ receiveConnectors: [{ name: 'mx', port: 25 }], ...config }), 1);
}

function messageFor(file: GoldenFile, m: Record<string, unknown>): RuleMessage {
  const base = { mailFrom: 'sender@example.net', recipients: ['user@contoso.com'], clientIp: '203.0.113.9', attribution: { kind: 'anonymous-external' }, now: '2026-12-07T12:00:00Z' };
  const merged: Record<string, unknown> = { ...base, ...(file.defaults ?? {}), ...m };
  const out = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null));
  out.now = Date.parse(String(out.now));
  return out as unknown as RuleMessage;
}

const conditionsSeen = new Set<string>();
const exceptionsSeen = new Set<string>();
const actionsSeen = new Set<string>();
let total = 0;

for (const name of files) {
  const file = fileSchema.parse(parse(readFileSync(new URL(name, dir), 'utf8')));
  const rules = (file.config.transportRules ?? []) as Array<{ conditions?: object; exceptions?: object; actions?: object }>;
  for (const r of rules) {
    Object.keys(r.conditions ?? {}).forEach((k) => conditionsSeen.add(k));
    Object.keys(r.exceptions ?? {}).forEach((k) => exceptionsSeen.add(k));
  }
  const snap = snapshotFor(file.config);
  for (const c of file.cases) {
    total++;
    test(`${name}: ${c.name}`, () => {
      const out = evaluateSnapshotRules(snap, messageFor(file, c.message));
      const hits = out.hits.map((h) => {
        h.applied.forEach((a) => actionsSeen.add(a));
        const picked: Record<string, unknown> = { rule: h.rule };
        const want = c.expect.hits.find((x) => x.rule === h.rule);
        if (want?.mode !== undefined) picked.mode = h.mode;
        if (want?.applied !== undefined) picked.applied = [...h.applied];
        return picked;
      });
      assert.deepEqual(hits, c.expect.hits, `hits ${JSON.stringify(out.hits)}`);
      for (const [k, v] of Object.entries(c.expect.effect ?? {})) {
        assert.deepEqual(JSON.parse(JSON.stringify((out.effect as unknown as Record<string, unknown>)[k] ?? null)), v, `effect.${k} in ${JSON.stringify(out.effect)}`);
      }
      assert.deepEqual(out.undetermined, c.expect.undetermined ?? [], 'undetermined');
    });
  }
  for (const r of file.refused) {
    total++;
    test(`${name}: refused: ${r.name}`, () => {
      assert.throws(
        () => snapshotFor({ ...file.config, transportRules: r.rules }),
        (e: unknown) => {
          const where = e instanceof ConfigError ? e.path : e instanceof z.ZodError ? e.issues.map((i) => i.path.join('.')).join(';') : String(e);
          assert.equal(where, r.path, String(e));
          if (r.reason) assert.match(String((e as Error).message), new RegExp(r.reason));
          return true;
        },
      );
    });
  }
}

const CONDITIONS = Object.keys(configSchema.shape.transportRules.unwrap().element.shape.conditions.unwrap().shape);

test('golden rules: every condition and exception is exercised, every action applied', () => {
  assert.deepEqual(CONDITIONS.filter((k) => !conditionsSeen.has(k)), [], 'conditions without a case');
  assert.deepEqual(CONDITIONS.filter((k) => !exceptionsSeen.has(k)), [], 'exceptions without a case');
  assert.deepEqual(ACTION_NAMES.filter((a) => !actionsSeen.has(a)), [], 'actions never applied');
  assert.ok(total >= 40, `${total} cases`);
});
