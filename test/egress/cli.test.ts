/**
 * `mailgate egress …` end to end through the CLI (child processes, a real SQLite store): set the
 * policy by flags, add and remove exceptions, refuse bad input with the right exit code and no new
 * version, render to a file naming the configuration version, and `egress check` against loopback
 * listeners (open port → exit 1; refused ports → blocked, exit 0). The readiness report and the
 * audit plan carry the egress step; `report egress-gone` takes a block date.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliAsync, freePort, removeDir, tempDir } from '../helpers/gateway.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { SqliteConfigStore } from '../../src/stores/sqlite/config-store.ts';
import { renderEgress } from '../../src/egress/index.ts';

let dir: string;
before(() => {
  dir = tempDir('mailgate-egress-cli-');
  assert.equal(cli(dir, ['init']).code, 0, 'mailgate init makes the data directory');
});
after(() => removeDir(dir));

function stored(): { version: number; egress: ReturnType<SqliteConfigStore['currentNow']> } {
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const store = new SqliteConfigStore(db);
    return { version: store.currentVersionNow(), egress: store.currentNow() };
  } finally {
    db.close();
  }
}

test('egress set / exception add / show / render: flags make versions; bad input is refused; render names the version', () => {
  let r = cli(dir, ['egress', 'set', '--relay-address', '192.0.2.10,2001:db8::10', '--internal-range', '192.0.2.0/24', '2001:db8::/32', '--action', 'drop', '--ports', '25,465,587,2525']);
  assert.equal(r.code, 0, r.stderr);
  r = cli(dir, ['egress', 'exception', 'add', 'scanner', '--address', '192.0.2.50', '--comment', 'vendor "X"', '--expires', '2099-01-31']);
  assert.equal(r.code, 0, r.stderr);
  const v = stored().version;
  // Refused: a comment with a line break (schema, exit 1), a bad address (usage, exit 2), a bad format (2).
  r = cli(dir, ['egress', 'exception', 'add', 'evil', '--address', '192.0.2.51', '--comment', 'a\n-A FORWARD -j ACCEPT']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /egress\.exceptions\[1\]\.comment: one line of text without control characters/);
  assert.equal(cli(dir, ['egress', 'set', '--add-relay-address', '192.0.2.300']).code, 2);
  assert.equal(cli(dir, ['egress', 'render', '--format', 'cisco']).code, 2);
  assert.equal(stored().version, v, 'nothing refused made a version');

  r = cli(dir, ['egress', 'show', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(shown['version'], v);
  assert.deepEqual(shown['relayAddresses'], ['192.0.2.10', '2001:db8::10']);
  assert.deepEqual(shown['blockedPorts'], [25, 465, 587, 2525]);
  assert.deepEqual(shown['exceptions'], [{ name: 'scanner', addresses: ['192.0.2.50'], comment: 'vendor "X"', expires: '2099-01-31', state: 'active' }]);

  const out = join(dir, 'egress.nft');
  r = cli(dir, ['egress', 'render', '--format', 'nftables', '-o', out, '--date', '2026-12-07']);
  assert.equal(r.code, 0, r.stderr);
  const cfg = stored().egress?.config;
  assert.ok(cfg);
  assert.equal(readFileSync(out, 'utf8'), renderEgress('nftables', cfg.egress, { version: v, asOf: '2026-12-07' }));
  assert.match(readFileSync(out, 'utf8'), new RegExp(`^#!/usr/sbin/nft -f\\n# mailgate egress policy, configuration version ${v} `));

  assert.equal(cli(dir, ['egress', 'exception', 'remove', 'scanner']).code, 0);
  assert.equal(cli(dir, ['egress', 'exception', 'remove', 'scanner']).code, 1);
});

test('the egress policy moves as YAML too: config validate names every bad egress setting', () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'egress:\n  relayAddresses: [192.0.2.300]\n  blockedPorts: [0]\n  action: block\n  exceptions:\n    - { name: "a b", addresses: [], expires: 2027-1-1 }\n');
  const r = cli(dir, ['config', 'validate', '-f', bad]);
  assert.equal(r.code, 1);
  for (const path of ['egress.relayAddresses[0]', 'egress.blockedPorts[0]', 'egress.action', 'egress.exceptions[0].name', 'egress.exceptions[0].addresses', 'egress.exceptions[0].expires']) {
    assert.ok(r.stderr.includes(`bad.yaml: ${path}: `), `${path} named:\n${r.stderr}`);
  }
});

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : 0 };
}

test('egress check: an open port fails the check (exit 1), refused ports pass it (exit 0), an unknown host is exit 1', async () => {
  const { server, port } = await listen();
  const closed = await freePort();
  try {
    let r = await cliAsync(dir, ['egress', 'check', '--target', '127.0.0.1', '--ports', `${port},${closed}`, '--timeout-ms', '2000', '--format', 'json']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { port: number; result: string }[]).map((x) => [x.port, x.result]), [[port, 'open'], [closed, 'blocked']]);
    r = await cliAsync(dir, ['egress', 'check', '--target', '127.0.0.1', '--ports', String(closed), '--timeout-ms', '2000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /all 1 ports blocked/);
    r = await cliAsync(dir, ['egress', 'check', '--target', 'no-such-host.invalid', '--timeout-ms', '500']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot resolve no-such-host\.invalid/);
    assert.equal((await cliAsync(dir, ['egress', 'check', '--target', '127.0.0.1', '--timeout-ms', '0'])).code, 2);
  } finally {
    server.close();
  }
});

test('the readiness report and the audit plan carry the egress step (set the relay first); report egress-gone takes a block date', () => {
  const dir = tempDir('mailgate-egress-step-');
  assert.equal(cli(dir, ['init']).code, 0, 'mailgate init makes the data directory');
  try {
    readinessAndPlan(dir);
  } finally {
    removeDir(dir);
  }
});

const RENDER_LINE = '  mailgate egress render --format nftables -o egress.nft && nft -c -f egress.nft && nft -f egress.nft';

function readinessAndPlan(dir: string): void {
  const summary = (): string[] => {
    const r = cli(dir, ['report', 'direct-send', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { summary: string[] }).summary;
  };
  const unset = summary();
  assert.ok(unset.some((l) => l.includes('mailgate egress set --relay-address')), unset.join('\n'));
  assert.ok(!unset.includes(RENDER_LINE), 'no render/apply advice before the relay address is set');
  assert.equal(cli(dir, ['egress', 'set', '--relay-address', '192.0.2.10']).code, 0);
  const set = summary();
  assert.ok(set.includes(RENDER_LINE), set.join('\n'));
  let r = cli(dir, ['audit', 'plan', '--since', '30d']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /## After the migration: Block direct SMTP egress \(once the devices relay through mailgate\)\n/);
  assert.match(r.stdout, /```sh\n# 1\. review the policy/);
  const today = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  r = cli(dir, ['report', 'egress-gone', '--block-date', today, '--since', '30d', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { title: string }).title, 'Sources gone since the egress block');
  assert.equal(cli(dir, ['report', 'egress-gone', '--block-date', 'soon']).code, 2);
  assert.equal(cli(dir, ['report', 'egress-gone', '--block-date', '2001-01-01']).code, 2);
}
