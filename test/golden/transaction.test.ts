/**
 * @module test/golden/transaction
 * evaluateTransaction() against the stage-by-stage evaluate() over the golden policy cases
 * (test/golden/policy/*.yaml): each connect/mail/rcpt/eod case becomes a whole transaction (the
 * case's facts, its recipient given after `acceptedRcptCount` earlier copies of it). When the
 * transaction reaches the case's stage, its verdict there equals evaluate() on the case's facts and
 * meets the case's golden expectation; when it stops earlier, the stopping stage refused (smtp/
 * would not have asked the later stage either). Plus the transport rules after end of DATA.
 * Touches: reads test/golden/policy/*.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { compilePolicy } from '../../src/config/compile.ts';
import { configSchema } from '../../src/config/schema.ts';
import { evaluate, type PolicyInput, type PolicySnapshot, type Verdict } from '../../src/policy/index.ts';
import { evaluateTransaction, type TransactionFacts } from '../../src/policy/transaction.ts';
import { snapshotOf } from './snapshot.ts';

interface Case {
  name: string;
  stage: string;
  org?: Record<string, boolean>;
  input?: Record<string, unknown>;
  expect: { action: string; reply?: string; attribution: Record<string, unknown>; reasons?: string[] };
}
interface File {
  config: Record<string, unknown>;
  defaults?: { input?: Record<string, unknown> };
  cases: Case[];
}

const dir = new URL('./policy/', import.meta.url);
const names = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

function snapshotFor(config: Record<string, unknown>, org: Record<string, boolean> | undefined): PolicySnapshot {
  const organization = { ...((config.organization as Record<string, unknown> | undefined) ?? {}), ...(org ?? {}) };
  return compilePolicy(configSchema.parse({ ...config, organization, receiveConnectors: config.receiveConnectors ?? [{ name: 'mx', port: 25 }] }), 1);
}

function inputFor(file: File, c: Case): PolicyInput {
  const merged: Record<string, unknown> = { listener: 'mx', clientIp: '203.0.113.9', tls: false, ...(file.defaults?.input ?? {}), ...(c.input ?? {}) };
  return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null)) as unknown as PolicyInput;
}

/** A recipient in the first accepted domain, for end-of-DATA cases that name none. */
function someRecipient(config: Record<string, unknown>): string {
  const d = (config.acceptedDomains as Array<{ domainName: string }> | undefined)?.[0]?.domainName ?? 'example.org';
  return `postmaster@${d}`;
}

const refused = (v: Verdict): boolean => v.action === 'reject' || v.action === 'tempfail';
let reached = 0;
let judged = 0;

for (const name of names) {
  const file = parse(readFileSync(new URL(name, dir), 'utf8')) as File;
  for (const c of file.cases) {
    if (c.stage === 'helo' || c.stage === 'data') continue; // smtp/ asks policy nothing there
    judged++;
    test(`transaction agrees with evaluate: ${name}: ${c.name}`, () => {
      const snap = snapshotFor(file.config, c.org);
      const input = inputFor(file, c);
      const rcpt = input.rcpt ?? someRecipient(file.config);
      const before = c.stage === 'rcpt' ? (input.acceptedRcptCount ?? 0) : 0;
      const facts: TransactionFacts = {
        listener: input.listener,
        clientIp: input.clientIp,
        helo: input.helo,
        tls: input.tls,
        tlsVersion: input.tlsVersion,
        cert: input.cert,
        authUser: input.authUser,
        mailFrom: c.stage === 'connect' ? undefined : (input.mailFrom ?? ''),
        rcpts: Array.from({ length: before + 1 }, () => rcpt),
        headerFrom: input.headerFrom,
        headerFromFields: input.headerFromFields,
        headerFromAddresses: input.headerFromAddresses,
        headerFromGroup: input.headerFromGroup,
        auth: input.auth,
      };
      const t = evaluateTransaction(facts, snap);
      const at = c.stage === 'rcpt' ? t.stages.filter((s) => s.stage === 'rcpt')[before] : t.stages.find((s) => s.stage === c.stage);
      if (!at) {
        // Not reached: an earlier stage refused, and that is where the transaction stopped.
        assert.ok(t.refusal && refused(t.refusal), `${c.stage} not reached without a refusal: ${JSON.stringify(t)}`);
        assert.ok(c.stage !== 'connect');
        return;
      }
      reached++;
      // The facts smtp/ hands evaluate() at that stage (session.ts policyInput).
      const expectedInput: PolicyInput =
        c.stage === 'connect'
          ? { ...input, mailFrom: undefined, rcpt: undefined, acceptedRcptCount: undefined }
          : { ...input, mailFrom: facts.mailFrom, acceptedRcptCount: c.stage === 'mail' ? 0 : c.stage === 'rcpt' ? before : t.accepted.length, rcpt: c.stage === 'rcpt' ? rcpt : undefined };
      assert.deepEqual(at.verdict, evaluate(c.stage as 'connect', expectedInput, snap));
      // And the golden expectation holds whenever the case stated the facts the transaction needs.
      if (c.stage === 'connect' || input.mailFrom !== undefined) {
        assert.equal(at.verdict.action, c.expect.action, JSON.stringify(at.verdict));
        assert.equal(at.verdict.action === 'continue' ? undefined : at.verdict.reply, c.expect.reply);
      }
      if (refused(at.verdict) && c.stage !== 'rcpt') {
        assert.equal(t.at, c.stage);
        assert.equal(t.outcome, at.verdict.action);
      }
    });
  }
}

test('transaction: most golden cases reach their stage', () => {
  assert.ok(judged >= 60, `${judged} cases`);
  assert.ok(reached >= judged * 0.8, `${reached} of ${judged} reached their stage`);
});

test('transaction: several recipients — refused ones are skipped, the count passed on is of accepted ones', () => {
  const snap = snapshotOf({ acceptedDomains: [{ domainName: 'contoso.com' }], receiveConnectors: [{ name: 'mx', port: 25, maxRecipients: 2 }] });
  const t = evaluateTransaction({ listener: 'mx', clientIp: '203.0.113.9', tls: false, mailFrom: 'a@ext.example', rcpts: ['x@other.example', 'a@contoso.com', 'b@contoso.com', 'c@contoso.com'] }, snap);
  assert.deepEqual(t.stages.map((s) => `${s.stage}:${s.verdict.action}`), ['connect:continue', 'mail:continue', 'rcpt:reject', 'rcpt:continue', 'rcpt:continue', 'rcpt:tempfail', 'eod:continue']);
  assert.deepEqual(t.accepted, ['a@contoso.com', 'b@contoso.com']);
  assert.equal(t.outcome, 'accept');
  assert.deepEqual(t.attribution, { kind: 'anonymous-external' });
});

test('transaction: no recipient accepted stops at RCPT with the last refusal; no MAIL is incomplete', () => {
  const snap = snapshotOf({ acceptedDomains: [{ domainName: 'contoso.com' }] });
  const t = evaluateTransaction({ listener: 'mx', clientIp: '203.0.113.9', tls: false, mailFrom: 'a@ext.example', rcpts: ['x@other.example'] }, snap);
  assert.equal(t.outcome, 'reject');
  assert.equal(t.at, 'rcpt');
  assert.equal(t.refusal?.action === 'reject' ? t.refusal.reply : '', 'relay-denied');
  assert.equal(t.stages.some((s) => s.stage === 'eod'), false);
  const c = evaluateTransaction({ listener: 'mx', clientIp: '203.0.113.9', tls: false, rcpts: [] }, snap);
  assert.equal(c.outcome, 'incomplete');
  assert.deepEqual(c.stages.map((s) => s.stage), ['connect']);
});

test('transaction: transport rules run after end of DATA on the accepted recipients; an Enforce reject is the outcome', () => {
  const rules = [
    { name: 'audit-ds', priority: 0, mode: 'Audit', conditions: { attributionIs: ['direct-send'] }, actions: { quarantine: true } },
    { name: 'block-ext', priority: 1, mode: 'Enforce', conditions: { senderDomainIs: ['bad.example'] }, actions: { rejectMessage: { reasonText: 'no' } } },
  ];
  const snap = snapshotOf({ acceptedDomains: [{ domainName: 'contoso.com' }], transportRules: rules });
  const ds = evaluateTransaction({ listener: 'mx', clientIp: '203.0.113.9', tls: false, mailFrom: 'printer@contoso.com', rcpts: ['x@contoso.com'], now: 0 }, snap);
  assert.equal(ds.outcome, 'accept');
  assert.deepEqual(ds.rules?.hits.map((h) => [h.rule, h.mode]), [['audit-ds', 'Audit']]);
  const bad = evaluateTransaction({ listener: 'mx', clientIp: '203.0.113.9', tls: false, mailFrom: 'a@bad.example', rcpts: ['x@contoso.com', 'y@other.example'], now: 0 }, snap);
  assert.equal(bad.outcome, 'reject');
  assert.equal(bad.at, 'rule');
  assert.equal(bad.rules?.effect.reject?.rule, 'block-ext');
  // Without `now` (or with rules: false) the rules do not run.
  assert.equal(evaluateTransaction({ listener: 'mx', clientIp: '203.0.113.9', tls: false, mailFrom: 'a@bad.example', rcpts: ['x@contoso.com'] }, snap).rules, undefined);
});
