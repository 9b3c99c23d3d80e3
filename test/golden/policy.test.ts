/**
 * @module test/golden/policy
 * Golden tests for the pure policy: every `policy/*.yaml` file holds a mailgate config and a list of
 * cases (stage + facts → expected action, reply key and attribution). Each case is compiled through
 * the real configSchema and compilePolicy and run through evaluate(). A case may override the
 * organization (`org: { rejectDirectSend: true }`). The runner also asserts that every
 * PolicyReplyKey is produced by at least one case.
 * Touches: reads test/golden/policy/*.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { compilePolicy } from '../../src/config/compile.ts';
import { configSchema } from '../../src/config/schema.ts';
import { evaluate } from '../../src/policy/index.ts';
import type { Attribution, PolicyInput, PolicyReplyKey, PolicySnapshot, Verdict } from '../../src/policy/index.ts';

/** Every reply key; a Record so the compiler notices a new key. */
const ALL_REPLY_KEYS: Record<PolicyReplyKey, true> = {
  'client-not-permitted': true,
  'client-blocked': true,
  'sender-blocked': true,
  'auth-required': true,
  'send-as-denied': true,
  'default-deny': true,
  'connector-requires-tls': true,
  'relay-denied': true,
  'relay-routing-denied': true,
  'relay-sender-not-accepted': true,
  'direct-send-rejected': true,
  'partner-restricted': true,
  'too-many-recipients': true,
  'dmarc-reject': true,
  'dmarc-tempfail': true,
  'dmarc-quarantine': true,
  'from-header-duplicate': true,
  'from-header-multiple': true,
  'from-header-group': true,
};

const caseSchema = z
  .object({
    name: z.string(),
    stage: z.enum(['connect', 'helo', 'mail', 'rcpt', 'data', 'eod']),
    org: z.record(z.string(), z.boolean()).optional(),
    input: z.record(z.string(), z.unknown()).default({}),
    expect: z
      .object({
        action: z.enum(['continue', 'reject', 'tempfail', 'quarantine']),
        reply: z.string().optional(),
        attribution: z.record(z.string(), z.unknown()),
        reasons: z.array(z.string()).optional(),
        vars: z.record(z.string(), z.string()).optional(),
      })
      .strict(),
  })
  .strict();

const fileSchema = z
  .object({
    description: z.string().optional(),
    config: z.record(z.string(), z.unknown()),
    defaults: z.object({ input: z.record(z.string(), z.unknown()).default({}) }).strict().optional(),
    cases: z.array(caseSchema).min(1),
  })
  .strict();

type GoldenCase = z.infer<typeof caseSchema>;
type GoldenFile = z.infer<typeof fileSchema>;

const dir = new URL('./policy/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function load(file: string): GoldenFile {
  return fileSchema.parse(parse(readFileSync(new URL(file, dir), 'utf8')));
}

function snapshotFor(config: Record<string, unknown>, org: Record<string, boolean> | undefined): PolicySnapshot {
  const organization = { ...((config.organization as Record<string, unknown> | undefined) ?? {}), ...(org ?? {}) };
  const listeners = config.receiveConnectors ?? [{ name: 'mx', port: 25 }];
  return compilePolicy(configSchema.parse({ ...config, organization, receiveConnectors: listeners }), 1);
}

/** File defaults, then the case's input; a `null` in the case removes a default (fact not known). */
function inputFor(file: GoldenFile, c: GoldenCase): PolicyInput {
  const base = { listener: 'mx', clientIp: '203.0.113.9', tls: false };
  const merged: Record<string, unknown> = { ...base, ...(file.defaults?.input ?? {}), ...c.input };
  return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null)) as unknown as PolicyInput;
}

function checkAttribution(actual: Attribution | undefined, expected: Record<string, unknown>): void {
  assert.ok(actual, 'verdict has no attribution');
  const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, (actual as Record<string, unknown>)[k]]));
  assert.deepEqual(picked, expected, `attribution ${JSON.stringify(actual)}`);
}

function checkVerdict(v: Verdict, e: GoldenCase['expect']): void {
  assert.equal(v.action, e.action, `verdict ${JSON.stringify(v)}`);
  const reply = v.action === 'continue' ? undefined : v.reply;
  assert.equal(reply, e.reply, `verdict ${JSON.stringify(v)}`);
  checkAttribution(v.attribution, e.attribution);
  for (const r of e.reasons ?? []) assert.ok(v.reasons.includes(r), `reason ${r} missing from ${JSON.stringify(v.reasons)}`);
  const vars = v.action === 'continue' ? {} : (v.vars ?? {});
  for (const [k, val] of Object.entries(e.vars ?? {})) assert.equal(vars[k], val, `vars.${k} in ${JSON.stringify(vars)}`);
}

const produced = new Set<string>();
let total = 0;

for (const name of files) {
  const file = load(name);
  const base = snapshotFor(file.config, undefined);
  for (const c of file.cases) {
    total++;
    if (c.expect.reply) produced.add(c.expect.reply);
    test(`${name}: ${c.name}`, () => {
      const snap = c.org ? snapshotFor(file.config, c.org) : base;
      checkVerdict(evaluate(c.stage, inputFor(file, c), snap), c.expect);
    });
  }
}

test('golden: at least 8 files and 60 cases', () => {
  assert.ok(files.length >= 8, `${files.length} files`);
  assert.ok(total >= 60, `${total} cases`);
});

test('golden: every PolicyReplyKey is produced by at least one case', () => {
  const missing = Object.keys(ALL_REPLY_KEYS).filter((k) => !produced.has(k));
  assert.deepEqual(missing, []);
  const unknown = [...produced].filter((k) => !Object.hasOwn(ALL_REPLY_KEYS, k));
  assert.deepEqual(unknown, []);
});
