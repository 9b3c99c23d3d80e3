import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { openContext } from '../cli/context.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { addRule, addTemplateRule, lintRules, listRules, removeRule, setRule, setRuleState, testRules } from './rules.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';

function withOps(fn: (ctx: OpsContext) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-ops-rules-'));
  const cli = openContext({ data: dir, create: true });
  return fn({ db: cli.db, store: cli.store, dataDir: dir, actor: 'tester', trace: sqliteTraceStore(cli.db) }).finally(() => {
    cli.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

const names = async (ctx: OpsContext): Promise<string[]> => (await listRules(ctx)).map((r) => `${r.priority}:${r.name}`);

test("priorities as in Exchange: new rules go last, a used priority shifts the others down, removal closes the gap", () =>
  withOps(async (ctx) => {
    await addRule(ctx, { name: 'a', actions: { quarantine: true } });
    await addRule(ctx, { name: 'b', actions: { quarantine: true } });
    await addRule(ctx, { name: 'c', actions: { quarantine: true } }, 0);
    assert.deepEqual(await names(ctx), ['0:c', '1:a', '2:b']);
    await setRule(ctx, 'b', { priority: 1 });
    assert.deepEqual(await names(ctx), ['0:c', '1:b', '2:a']);
    await removeRule(ctx, 'c');
    assert.deepEqual(await names(ctx), ['0:b', '1:a']);
    await assert.rejects(addRule(ctx, { name: 'A', actions: { quarantine: true } }), (e: unknown) => e instanceof OpsError && e.kind === 'conflict');
    await assert.rejects(setRule(ctx, 'nope', {}), (e: unknown) => e instanceof OpsError && e.kind === 'not-found');
    await assert.rejects(addRule(ctx, { name: 'x', actions: { setScl: 12 } }), (e: unknown) => e instanceof OpsError && e.kind === 'invalid' && /setScl/.test(e.message));
    const history = await ctx.store.current();
    assert.equal(history?.actor, 'tester');
  }));

test('the direct-send-quarantine template: Audit, priority 0, own domains in From or MAIL FROM, no connector, exceptions', () =>
  withOps(async (ctx) => {
    await addRule(ctx, { name: 'first', actions: { setScl: 1 } });
    const { rule } = await addTemplateRule(ctx, 'direct-send-quarantine', ['192.0.2.10']);
    assert.equal(rule.mode, 'Audit');
    assert.equal(rule.priority, 0);
    assert.equal(rule.senderAddressLocation, 'HeaderOrEnvelope');
    assert.deepEqual(rule.conditions, { senderDomainIs: ['example.com'], connectorIs: ['none'] });
    assert.deepEqual(rule.exceptions, { attributionIs: ['authenticated'], senderIpRanges: ['192.0.2.10'] });
    const hit = await testRules(ctx, { clientIp: '203.0.113.5', mailFrom: 'printer@example.com', recipients: ['u@example.com'] });
    assert.equal(hit.attribution, 'direct-send');
    assert.deepEqual(hit.hits.map((h) => [h.rule, h.applied.join('+')]), [['Direct Send quarantine', ''], ['first', 'setScl']]);
    assert.equal(hit.effect.quarantine, undefined, 'Audit never quarantines');
    const exempt = await testRules(ctx, { clientIp: '192.0.2.10', mailFrom: 'printer@example.com', recipients: ['u@example.com'] });
    assert.deepEqual(exempt.hits.map((h) => h.rule), ['first']);
  }));

test('lint: audit-mode actions, Header where the envelope is meant, SCL -1, a disabled rule relied on', () =>
  withOps(async (ctx) => {
    await addTemplateRule(ctx, 'direct-send-quarantine', []);
    await addRule(ctx, { name: 'bypass', conditions: { senderDomainIs: ['example.com'] }, actions: { setScl: -1 } });
    await addRule(ctx, { name: 'off', conditions: { fromScope: 'NotInOrganization', senderDomainIs: ['example.com'] }, senderAddressLocation: 'Envelope', actions: { quarantine: true } });
    await setRuleState(ctx, 'off', 'Disabled');
    const got = (await lintRules(ctx)).map((f) => `${f.rule}:${f.code}`).sort();
    assert.deepEqual(got, ['Direct Send quarantine:audit-mode-action', 'bypass:scl-bypass', 'bypass:sender-header-not-envelope', 'off:disabled-relied-on']);
  }));
