/**
 * @module cli/readme-rollout.test
 * The README's "Roll out enforcement safely" walk-through, followed literally: its `mailgate`
 * commands run in order against a data dir (created as `mailgate init` does; accepted domain
 * contoso.com) whose trace holds recorded Direct Send from a kept device (192.0.2.10) and an
 * unknown source; `trace show ID` gets a recorded message's id. Checks what each step must show:
 * the source found, the rule in Audit then Enforce, the replay's newly refused source, and
 * RejectDirectSend on at the end.
 * Touches: a temporary data directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRow } from '../trace/reports/test-rows.ts';
import { ensureTraceSchema } from '../trace/index.ts';
import { openContext } from './context.ts';
import { registerDomain } from './commands/domain.ts';
import { registerOrg } from './commands/org.ts';
import { registerPolicy } from './commands/policy.ts';
import { registerQuarantine } from './commands/quarantine.ts';
import { registerReport } from './commands/report.ts';
import { registerRule } from './commands/rule.ts';
import { registerTrace } from './commands/trace.ts';
import { registerPolicyReplay } from './replay.ts';
import { runCli, type Register } from '../../test/helpers/cli-run.ts';
import { storedConfig } from '../../test/helpers/stored-config.ts';

const REGISTERS: Register[] = [
  registerDomain,
  (p, io) => registerReport(p, io),
  (p) => registerTrace(p),
  (p, io) => registerRule(p, io),
  (p) => registerQuarantine(p),
  (p, io) => registerOrg(p, io),
  (p, io) => {
    registerPolicy(p);
    const policy = p.commands.find((c) => c.name() === 'policy');
    if (policy) registerPolicyReplay(policy, io);
  },
];

/** Run one command; trace and quarantine print on process.stdout itself, so that is captured too. */
async function run(data: string, args: string[]): Promise<string> {
  let printed = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => ((printed += String(chunk)), true)) as typeof process.stdout.write;
  try {
    return (await runCli(data, args, REGISTERS)) + printed;
  } finally {
    process.stdout.write = write;
  }
}

/** Split a shell line into words ('…' quoting only, which is all the README uses). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

test('README "Roll out enforcement safely": the commands run as written, in order, and show each step', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Roll out enforcement safely');
  assert.ok(start >= 0, 'the README has the section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  const sh = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const lines = sh.replace(/\\\n\s*/g, '').split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
  // The order the brief asks for: find → rules in Audit → review → Enforce → RejectDirectSend.
  const order = ['report direct-send', 'trace search', 'rule add', 'rule lint', 'rule replay', 'policy replay', 'rule test', 'trace show', 'quarantine list', 'rule set', 'policy replay', 'org set'];
  let at = 0;
  for (const o of order) {
    const i = lines.findIndex((l, k) => k >= at && l.startsWith(`mailgate ${o}`));
    assert.ok(i >= 0, `"mailgate ${o}" missing or out of order`);
    at = i + 1;
  }

  const data = mkdtempSync(join(tmpdir(), 'mailgate-readme-rollout-'));
  try {
    openContext({ data, create: true }).close(); // as `mailgate init` does
    await runCli(data, ['domain', 'add', 'contoso.com'], REGISTERS);
    await runCli(data, ['domain', 'remove', 'example.com'], REGISTERS); // the seeded example domain
    const ctx = openContext({ data });
    let id: string;
    try {
      ensureTraceSchema(ctx.db);
      const day = 86_400_000;
      id = addRow(ctx.db, { receivedAt: Date.now() - 2 * day, clientIp: '192.0.2.10', mailFrom: 'scanner@contoso.com', headerFrom: 'scanner@contoso.com', recipients: ['user@contoso.com'], subject: 'scan' });
      addRow(ctx.db, { receivedAt: Date.now() - 3 * day, clientIp: '203.0.113.7', mailFrom: 'billing@contoso.com', headerFrom: 'billing@contoso.com', recipients: ['user@contoso.com'], subject: 'invoice' });
    } finally {
      ctx.close();
    }
    const out: Record<string, string> = {};
    for (const line of lines) {
      const [cmd, ...args] = words(line);
      assert.equal(cmd, 'mailgate');
      const key = args.slice(0, 2).join(' ');
      out[key] = (out[key] ?? '') + (await run(data, args.map((a) => (a === 'ID' ? id : a))));
    }
    assert.match(out['report direct-send'] ?? '', /203\.0\.113\.7/);
    assert.match(out['trace search'] ?? '', /billing@contoso\.com/);
    assert.match(out['rule test'] ?? '', /Direct Send quarantine\s+Audit\s+hit/);
    // Audit: the unknown source is a hit, the kept device (--except-ip) is not.
    assert.match(out['rule replay'] ?? '', /Direct Send quarantine\s+Audit\s+Enabled\s+1\s+0\s/);
    assert.match(out['trace show'] ?? '', /scanner@contoso\.com/);
    // The last replay (RejectDirectSend on) newly refuses both recorded sources.
    assert.match(out['policy replay'] ?? '', /2 newly rejected/);
    const cfg = storedConfig(data);
    assert.equal(cfg.organization.rejectDirectSend, true);
    assert.deepEqual(cfg.transportRules.map((r) => [r.name, r.mode]), [['Direct Send quarantine', 'Enforce']]);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
