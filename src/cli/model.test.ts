/**
 * @module cli/model.test
 * The model verbs end to end through commander: each call builds a program with `--data <tmp>`,
 * parses with exitOverride, captures stdout and checks what the store now holds.
 * Touches: temporary data directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { registerModelCommands } from './commands/model.ts';
import { openContext, type CliIo } from './context.ts';
import { CliError, UsageError } from './format.ts';
import { OpsError } from '../ops/errors.ts';
import { ConfigError, verifyPassword, type Config } from '../config/index.ts';
import { sqliteStore, storedConfig } from '../../test/helpers/stored-config.ts';

interface Run {
  out: string;
  err: string;
}

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-cli-'));
  openContext({ data: dir, create: true }).close(); // as \`mailgate init\` does
  return dir;
}

async function run(data: string, args: string[], stdin?: string): Promise<Run> {
  const res: Run = { out: '', err: '' };
  const io: CliIo = {
    out: { write: (s: string) => (res.out += s) },
    err: { write: (s: string) => (res.err += s) },
    stdin: Object.assign(Readable.from(stdin === undefined ? [] : [stdin]), { isTTY: false }),
  };
  const program = new Command('mailgate').exitOverride().option('--data <dir>', 'data directory', './data');
  program.configureOutput({ writeOut: (s) => (res.out += s), writeErr: (s) => (res.err += s) });
  registerModelCommands(program, io);
  await program.parseAsync(['--data', data, ...args], { from: 'user' });
  return res;
}

const stored = storedConfig;

function versions(data: string): number {
  const ctx = openContext({ data });
  try {
    return sqliteStore(ctx.store).currentVersionNow();
  } finally {
    ctx.close();
  }
}

test('a fresh data dir is seeded from the example config', async () => {
  const data = newDataDir();
  const r = await run(data, ['domain', 'list', '--format', 'json']);
  assert.deepEqual(JSON.parse(r.out), [{ domainName: 'example.com', domainType: 'Authoritative', matchSubDomains: false }]);
  assert.equal(versions(data), 1);
});

test('connector add, set, show, list, remove', async () => {
  const data = newDataDir();
  await run(data, ['connector', 'add', 'Printers', '--type', 'onpremises', '--sender-ip', '192.0.2.10', '198.51.100.0/24', '--comment', '3rd floor']);
  let c = stored(data).inboundConnectors[0];
  assert.equal(c?.connectorType, 'OnPremises');
  assert.deepEqual(c?.senderIPAddresses, ['192.0.2.10', '198.51.100.0/24']);
  assert.equal(c?.comment, '3rd floor');

  await run(data, ['connector', 'set', 'printers', '--add-sender-ip', '203.0.113.5', '--remove-sender-ip', '192.0.2.10', '--require-tls', '--disabled']);
  c = stored(data).inboundConnectors[0];
  assert.deepEqual(c?.senderIPAddresses, ['198.51.100.0/24', '203.0.113.5']);
  assert.equal(c?.requireTls, true);
  assert.equal(c?.enabled, false);

  await run(data, ['connector', 'set', 'Printers', '--sender-ip', '10.1.0.0/16,10.2.0.0/16', '--enabled', '--no-require-tls']);
  c = stored(data).inboundConnectors[0];
  assert.deepEqual(c?.senderIPAddresses, ['10.1.0.0/16', '10.2.0.0/16']);
  assert.equal(c?.enabled, true);
  assert.equal(c?.requireTls, false);

  const list = await run(data, ['connector', 'list', '--format', 'csv']);
  assert.match(list.out, /^name,connectorType,enabled,senderIPAddresses,/);
  assert.match(list.out, /Printers,OnPremises,true,"10\.1\.0\.0\/16,10\.2\.0\.0\/16"/);
  const show = await run(data, ['connector', 'show', 'Printers', '--format', 'json']);
  assert.equal(JSON.parse(show.out).name, 'Printers');

  await run(data, ['connector', 'remove', 'PRINTERS']);
  assert.deepEqual(stored(data).inboundConnectors, []);
});

test('connector errors: unknown name, bad IP, refused combination, duplicate', async () => {
  const data = newDataDir();
  await assert.rejects(run(data, ['connector', 'set', 'nope', '--require-tls']), (e: unknown) => e instanceof OpsError && e.exitCode === 1 && /no inbound connector named "nope"/.test(e.message));
  await assert.rejects(run(data, ['connector', 'add', 'x', '--type', 'Partner', '--sender-ip', '10.0.0.300']), UsageError);
  await assert.rejects(run(data, ['connector', 'add', 'x', '--type', 'Sideways']), UsageError);
  await assert.rejects(
    run(data, ['connector', 'add', 'x', '--type', 'OnPremises', '--restrict-domains-to-ip', '--sender-ip', '192.0.2.1']),
    (e: unknown) => e instanceof ConfigError && e.path === 'inboundConnectors[0].connectorType',
  );
  await run(data, ['connector', 'add', 'x', '--type', 'Partner']);
  await assert.rejects(run(data, ['connector', 'add', 'X', '--type', 'Partner']), /already exists/);
  assert.equal(versions(data), 2, 'only the one good change was saved');
});

test('list add/remove sorts IPs from domains', async () => {
  const data = newDataDir();
  await run(data, ['list', 'block', 'add', '192.0.2.66', 'spam.example.net', '2001:db8::/32', '*.bad.example']);
  assert.deepEqual(stored(data).lists.block, { ips: ['192.0.2.66', '2001:db8::/32'], senderDomains: ['spam.example.net', '*.bad.example'] });
  await run(data, ['list', 'block', 'add', 'SPAM.example.net']);
  assert.equal(stored(data).lists.block.senderDomains.length, 2, 'no duplicate');
  await run(data, ['list', 'block', 'remove', '192.0.2.66', 'Spam.Example.Net']);
  assert.deepEqual(stored(data).lists.block, { ips: ['2001:db8::/32'], senderDomains: ['*.bad.example'] });
  await run(data, ['list', 'allow', 'add', 'partner.example']);
  assert.deepEqual(stored(data).lists.allow.senderDomains, ['partner.example']);
  const r = await run(data, ['list', 'block', 'list']);
  assert.equal(r.out, 'KIND          ENTRY\nip            2001:db8::/32\nsenderDomain  *.bad.example\n');
  await assert.rejects(run(data, ['list', 'allow', 'remove', '192.0.2.1']), CliError);
});

test('org set and show', async () => {
  const data = newDataDir();
  await run(data, ['org', 'set', '--reject-direct-send', 'true', '--hostname', 'mx.example.com']);
  const org = stored(data).organization;
  assert.equal(org.rejectDirectSend, true);
  assert.equal(org.hostname, 'mx.example.com');
  const r = await run(data, ['org', 'show', '--format', 'json']);
  assert.equal(JSON.parse(r.out).rejectDirectSend, true);
  await assert.rejects(run(data, ['org', 'set', '--reject-direct-send', 'perhaps']), UsageError);
  await assert.rejects(run(data, ['org', 'set']), UsageError);
  const h = await run(data, ['config', 'history', '--format', 'json']);
  const hist = JSON.parse(h.out) as { version: number; comment: string; actor: string }[];
  assert.equal(hist[0]?.version, 2);
  assert.match(hist[0]?.comment ?? '', /rejectDirectSend=true/);
  assert.ok(hist[0]?.actor);
});

test('domain add/remove', async () => {
  const data = newDataDir();
  await run(data, ['domain', 'add', 'contoso.com', '--type', 'InternalRelay', '--match-subdomains']);
  assert.deepEqual(stored(data).acceptedDomains[1], { domainName: 'contoso.com', domainType: 'InternalRelay', matchSubDomains: true });
  await assert.rejects(run(data, ['domain', 'add', 'fabrikam.com', '--match-subdomains']), /acceptedDomains\[2\]\.matchSubDomains/);
  await run(data, ['domain', 'remove', 'CONTOSO.com']);
  assert.equal(stored(data).acceptedDomains.length, 1);
});

test('user add reads the password from stdin; list never shows hashes', async () => {
  const data = newDataDir();
  await run(data, ['user', 'add', 'scanner@example.com', '--send-as', '@example.com'], 's3cret pass\nignored\n');
  const u = stored(data).users[0];
  assert.equal(u?.name, 'scanner@example.com');
  assert.deepEqual(u?.sendAs, ['@example.com']);
  assert.equal(await verifyPassword('s3cret pass', u?.passwordHash ?? ''), true);
  const r = await run(data, ['user', 'list', '--format', 'json']);
  assert.deepEqual(JSON.parse(r.out), [{ name: 'scanner@example.com', sendAs: ['@example.com'] }]);
  assert.doesNotMatch(r.out, /scrypt/);
  await run(data, ['user', 'passwd', 'scanner@example.com'], 'n3w\n');
  assert.equal(await verifyPassword('n3w', stored(data).users[0]?.passwordHash ?? ''), true);
  await assert.rejects(run(data, ['user', 'add', 'empty'], ''), UsageError);
  await assert.rejects(run(data, ['user', 'passwd', 'ghost'], 'x\n'), (e: unknown) => e instanceof OpsError && e.exitCode === 1 && /no user named "ghost"/.test(e.message));
  await run(data, ['user', 'remove', 'scanner@example.com']);
  assert.deepEqual(stored(data).users, []);
});

test('config apply/validate/export/show', async () => {
  const data = newDataDir();
  const dir = newDataDir();
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'inboundConnectors:\n  - name: a\n  - name: b\n    senderIPAddresses: [10.0.0.0/40]\nreceiveConnectors:\n  - name: mx\n');
  await assert.rejects(run(data, ['config', 'apply', '-f', bad]), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, new RegExp(`^${bad}: inboundConnectors\\[1\\]\\.senderIPAddresses\\[0\\]: `, 'm'));
    assert.match(e.message, new RegExp(`^${bad}: receiveConnectors\\[0\\]\\.port: required`, 'm'));
    return true;
  });
  assert.equal(versions(data), 1, 'nothing applied');
  const exported = join(dir, 'export.yaml');
  await run(data, ['config', 'export', '-o', exported]);
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'organization:\n  rejectDirectSend: true\nacceptedDomains:\n  - domainName: contoso.com\n');
  assert.match((await run(data, ['config', 'validate', '-f', good])).out, /OK[^]*warning: it has no receive connector/);
  await assert.rejects(run(data, ['config', 'apply', '-f', good]), /refused: it has no receive connector .*--force/);
  assert.equal(versions(data), 1, 'a configuration that listens on nothing is not applied unforced');
  await run(data, ['config', 'apply', '-f', good, '--comment', 'lock down', '--force']);
  assert.equal(stored(data).organization.rejectDirectSend, true);
  const changed = await run(data, ['config', 'show', '--changed']);
  assert.equal(changed.out, "organization:\n  rejectDirectSend: true\nacceptedDomains:\n  - domainName: contoso.com\n    domainType: Authoritative\n    matchSubDomains: false\n");
  await run(data, ['config', 'apply', '-f', exported]);
  assert.deepEqual(stored(data).receiveConnectors.map((r) => r.name), ['mx', 'submission'], 'the export applies back');
  const defaults = await run(data, ['config', 'show', '--defaults', '--format', 'json']);
  assert.deepEqual(JSON.parse(defaults.out).routes, []);
});
