/**
 * Changing a gateway the way an admin does, through the real CLI (child processes): no command
 * but `init` (and `serve`) creates a store, MAILGATE_DATA is honoured and every change names its
 * data directory; two routes for one domain pattern and two listeners on one address and port
 * are refused naming both (`route add --replace` works, `route show` marks the winner); a
 * configuration receiving no mail needs --force; list entries are parsed as IP/CIDR or domain and
 * an accepted domain is not blocked unforced; configuration history, diff (secrets masked),
 * show --version and rollback; the listener noun.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, removeDir, tempDir } from '../helpers/gateway.ts';

let dir: string;
const dirs: string[] = [];
before(() => {
  dir = tempDir();
  dirs.push(dir);
  const r = cli(dir, ['init']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^created .* \(config version 1 from mailgate\.example\.yaml\)$/m);
});
after(() => dirs.forEach(removeDir));

/** The CLI without --data, from `cwd`, with `env` (MAILGATE_DATA or not). */
function bare(cwd: string, args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const { MAILGATE_DATA: _drop, ...rest } = process.env;
  const r = spawnSync(process.execPath, ['--import', join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'), join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...rest, MAILGATE_LOG_LEVEL: 'silent', MAILGATE_DNS_SERVERS: '127.0.0.1:1', ...env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('no command but init creates a store; MAILGATE_DATA is honoured; changes name the data dir and version', () => {
  const elsewhere = tempDir('mailgate-cwd-');
  dirs.push(elsewhere);
  const lost = bare(elsewhere, ['org', 'set', '--reject-direct-send', 'true']);
  assert.equal(lost.code, 1, lost.stdout);
  assert.equal(lost.stderr, `mailgate: no mailgate data directory at ${join(elsewhere, 'data')}; pass --data or set MAILGATE_DATA (mailgate init creates one)\n`);
  assert.deepEqual(readdirSync(elsewhere), [], 'nothing was created');
  const empty = cli(elsewhere, ['domain', 'list']);
  assert.equal(empty.code, 1);
  assert.ok(!existsSync(join(elsewhere, 'mailgate.db')), '--data on an empty directory creates no store');

  const viaEnv = bare(elsewhere, ['org', 'set', '--reject-direct-send', 'true'], { MAILGATE_DATA: dir });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal(viaEnv.stdout, `organization updated (config version 2 in ${dir})\n`);
  assert.deepEqual(readdirSync(elsewhere), [], 'the change went to MAILGATE_DATA, not ./data');
  const again = cli(dir, ['init']);
  assert.match(again.stdout, /already holds a mailgate store \(config version 2\); nothing changed/);
});

test('two routes for one domain pattern are refused naming both; --replace takes it over; route show marks the winner', () => {
  const clash = cli(dir, ['route', 'add', 'exo', '--type', 'smtp', '--domain', '*', '--host', 'contoso-com.mail.protection.outlook.com', '--tls', 'required']);
  assert.equal(clash.code, 1, clash.stdout);
  assert.match(clash.stderr, /routes\[1\]\.domains\[0\]: routes "default" and "exo" both serve "\*": only "default" would get that mail/);
  const replaced = cli(dir, ['route', 'add', 'exo', '--replace', '--type', 'smtp', '--domain', '*', '--host', 'contoso-com.mail.protection.outlook.com', '--tls', 'required']);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stdout, /^route default removed \(it served only \*\)$/m);
  assert.equal(cli(dir, ['route', 'add', 'local', '--type', 'pickup', '--domain', 'example.com']).code, 0);
  const show = cli(dir, ['route', 'show', 'exo']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^example\.com +local\s*$/m);
  assert.match(show.stdout, /^outside\.example +exo +yes$/m);

  const file = join(dir, 'two-stars.yaml');
  writeFileSync(file, 'acceptedDomains: [{ domainName: example.com }]\nreceiveConnectors: [{ name: mx, port: 2525 }]\nroutes:\n  - { name: a, domains: ["*"] }\n  - { name: b, domains: [example.net, "*"] }\n');
  const apply = cli(dir, ['config', 'apply', '-f', file]);
  assert.equal(apply.code, 1);
  assert.match(apply.stderr, /two-stars\.yaml: routes\[1\]\.domains\[1\]: routes "a" and "b" both serve "\*"/);
});

test('two listeners on one address and port (any-address included) are refused; the listener noun edits them', () => {
  const same = cli(dir, ['listener', 'add', 'mx2', '--port', '2525']);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /receiveConnectors\[2\]\.port: receive connectors "mx" \(127\.0\.0\.1:2525\) and "mx2" \(127\.0\.0\.1:2525\) use the same address and port/);
  const any = cli(dir, ['listener', 'add', 'all', '--bind', '0.0.0.0', '--port', '2587']);
  assert.equal(any.code, 1);
  assert.match(any.stderr, /"submission" \(127\.0\.0\.1:2587\) and "all" \(0\.0\.0\.0:2587\)/);
  const ok = cli(dir, ['listener', 'add', 'relay', '--bind', '127.0.0.2', '--port', '2525', '--role', 'relay', '--tls', 'none', '--remote-ip', '10.0.0.0/8']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`^listener relay added \\(config version \\d+ in ${dir}\\)$`, 'm'));
  assert.equal(cli(dir, ['listener', 'set', 'relay', '--port', '2526']).code, 0);
  const list = JSON.parse(cli(dir, ['listener', 'list', '--format', 'json']).stdout) as Array<{ name: string; bind: string; port: number; role: string; tls: string; remoteIPRanges: string[] }>;
  assert.deepEqual(list.find((l) => l.name === 'relay'), { name: 'relay', bind: '127.0.0.2', port: 2526, role: 'relay', tls: 'none', requireAuth: false, remoteIPRanges: ['10.0.0.0/8'], defaultDeny: false });
  assert.equal(cli(dir, ['listener', 'remove', 'relay']).code, 0);
});

test('a configuration that would receive no mail is refused unless --force, with the reason', () => {
  const file = join(dir, 'empty.yaml');
  writeFileSync(file, '');
  const refused = cli(dir, ['config', 'apply', '-f', file]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /refused: it has no receive connector \(listener\): the gateway would listen on nothing; it has no accepted domain: every recipient would be refused as relaying \(5\.7\.64\)\. Pass --force/);
  const lastDomain = cli(dir, ['domain', 'remove', 'example.com']);
  assert.equal(lastDomain.code, 1);
  assert.match(lastDomain.stderr, /no accepted domain/);
  const scratch = tempDir();
  dirs.push(scratch);
  assert.equal(cli(scratch, ['init']).code, 0);
  const forced = cli(scratch, ['config', 'apply', '-f', file, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /applied as config version 2 in .*\(0 accepted domains, 0 inbound connectors, 0 receive connectors/);
});

test('list entries are IPs/CIDRs or domains with clear errors; blocking an accepted domain needs --force', () => {
  for (const bad of ['999.1.1.1', '10.0.0.0/33', 'fe80::zz']) {
    const r = cli(dir, ['list', 'block', 'add', bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, new RegExp(`"${bad.replace(/[.*/]/g, '\\$&')}" is not a valid IP address or CIDR`));
  }
  const addr = cli(dir, ['list', 'block', 'add', 'spammer@spam.example']);
  assert.equal(addr.code, 2);
  assert.match(addr.stderr, /is an address; list entries are IPs, CIDRs or domains \(use spam\.example\)/);
  const own = cli(dir, ['list', 'block', 'add', 'example.com']);
  assert.equal(own.code, 1);
  assert.match(own.stderr, /"example\.com" covers your accepted domain example\.com: .*authenticated users \(SMTP AUTH\) alike\. Pass --force/);
  const ok = cli(dir, ['list', 'block', 'add', '192.0.2.0/24', '*.spam.example']);
  assert.equal(ok.code, 0, ok.stderr);
  const forced = cli(dir, ['list', 'block', 'add', '*.example.com', '--force']);
  assert.equal(forced.code, 0);
  assert.match(forced.stderr, /^warning: "\*\.example\.com" covers your accepted domain example\.com/m);
  const rows = JSON.parse(cli(dir, ['list', 'block', 'list', '--format', 'json']).stdout) as Array<{ kind: string; entry: string }>;
  assert.deepEqual(rows, [
    { kind: 'ip', entry: '192.0.2.0/24' },
    { kind: 'senderDomain', entry: '*.spam.example' },
    { kind: 'senderDomain', entry: '*.example.com' },
  ]);
});

test('configuration history says what changed; diff masks secrets; show --version; rollback records who and why', () => {
  const h = cli(dir, ['user', 'add', 'app@example.com'], 'first-secret\n');
  assert.equal(h.code, 0, h.stderr);
  const history = JSON.parse(cli(dir, ['config', 'history', '--format', 'json', '--limit', '50']).stdout) as Array<{ version: number; comment: string; changes: string }>;
  const byComment = (c: string): { version: number; changes: string } | undefined => history.find((x) => x.comment.startsWith(c));
  assert.equal(byComment('org set')?.changes, 'organization.rejectDirectSend false→true');
  assert.equal(byComment('route add exo')?.changes, '+route exo; -route default');
  assert.equal(byComment('user add')?.changes, '+user app@example.com');
  assert.equal(history.at(-1)?.changes, 'initial configuration');
  const userVersion = byComment('user add')?.version ?? 0;

  const diff = cli(dir, ['config', 'diff', String(userVersion - 1), String(userVersion)]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, new RegExp(`^--- config version ${userVersion - 1}\\n\\+\\+\\+ config version ${userVersion}\\n@@ `));
  assert.match(diff.stdout, /^\+    passwordHash: <masked [0-9a-f]{8}>$/m);
  assert.doesNotMatch(diff.stdout, /scrypt\$/, 'no hash in the diff');
  assert.equal(cli(dir, ['config', 'diff']).stdout, diff.stdout, 'default: the previous version against the one in force');

  const v1 = cli(dir, ['config', 'show', '--version', '1']);
  assert.match(v1.stdout, /rejectDirectSend: false/);
  assert.match(v1.stdout, /name: default/);
  assert.equal(cli(dir, ['config', 'show', '--version', '999']).code, 1);

  const rb = cli(dir, ['config', 'rollback', '1', '--comment', 'undo the lab changes']);
  assert.equal(rb.code, 0, rb.stderr);
  const m = /^rolled back to version 1 as config version (\d+) in (.*)$/m.exec(rb.stdout);
  assert.ok(m, rb.stdout);
  assert.equal(m[2], dir);
  assert.equal(cli(dir, ['config', 'diff', '1', m[1] ?? '']).stdout, 'config versions 1 and ' + m[1] + ' are the same\n');
  const top = (JSON.parse(cli(dir, ['config', 'history', '--format', 'json', '--limit', '1']).stdout) as Array<{ actor: string; comment: string; changes: string }>)[0];
  assert.equal(top?.comment, 'rollback to version 1: undo the lab changes');
  assert.ok(top?.actor, 'who');
  assert.match(top?.changes ?? '', /organization\.rejectDirectSend true→false/);
  assert.match(top?.changes ?? '', /-user app@example\.com/);
});
