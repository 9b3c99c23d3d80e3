/**
 * End to end through the CLI (real child processes), issue 19 items 3 and 11: a YAML alias bomb
 * (billion laughs) is refused by `config validate` and `config apply` with one line and no stack
 * trace; `pickupDir` may not leave the data dir (`../../../../etc/cron.d`), and an absolute one
 * needs `pickupOutsideDataDir`; `config validate` warns about connector ranges wider than a /16
 * (IPv4) or a /32 (IPv6), such as 0.0.0.0/0, and still accepts the file; `report hunt` cannot read
 * the configuration (users) table.
 * Touches: a temp dir with YAML files and a data dir, the CLI child processes it runs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';

let dir: string;
let data: string;
before(() => {
  dir = tempDir();
  data = join(dir, 'data');
  assert.equal(cli(data, ['init']).code, 0, 'mailgate init creates the data directory');
});
after(() => removeDir(dir));

function yamlFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const BOMB = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`;

test('a billion-laughs YAML is refused by validate and apply with one line, no stack trace', () => {
  const f = yamlFile('bomb.yaml', BOMB);
  for (const verb of ['validate', 'apply']) {
    const r = cli(data, ['config', verb, '-f', f]);
    assert.equal(r.code, 1, `${verb}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${verb}: one line, got:\n${r.stderr}`);
    assert.match(lines[0] ?? '', /bomb\.yaml: YAML: refused: .*alias/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('pickupDir traversal is refused; an absolute folder needs pickupOutsideDataDir', () => {
  const route = (extra: string): string => `routes:\n  - name: drop\n    type: pickup\n${extra}`;
  const refused: Array<[string, string]> = [
    ['traversal.yaml', route("    pickupDir: '../../../../etc/cron.d'\n")],
    ['dotdot.yaml', route("    pickupDir: 'pickup/../../x'\n")],
    ['itself.yaml', route("    pickupDir: '.'\n")],
    ['absolute.yaml', route("    pickupDir: /etc/cron.d\n")],
  ];
  for (const [name, text] of refused) {
    const r = cli(data, ['config', 'validate', '-f', yamlFile(name, text)]);
    assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${name.replace('.', '\\.')}: routes\\[0\\]\\.pickupDir: .*pickupOutsideDataDir`), name);
  }
  for (const [name, text] of [
    ['inside.yaml', route("    pickupDir: 'spool-out/pickup'\n")],
    ['outside-allowed.yaml', route(`    pickupDir: ${join(dir, 'readers')}\n    pickupOutsideDataDir: true\n    pickupFileMode: '0640'\n`)],
  ] as const) {
    const r = cli(data, ['config', 'validate', '-f', yamlFile(name, text)]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  }
});

test('config validate warns about connector ranges wider than /16 (IPv4) or /32 (IPv6), and still accepts the file', () => {
  const f = yamlFile(
    'wide.yaml',
    `inboundConnectors:
  - { name: everyone, connectorType: OnPremises, senderIPAddresses: ['0.0.0.0/0'] }
  - { name: v6, connectorType: Partner, senderIPAddresses: ['2001:db8::/31', '2001:db8::/32'] }
  - { name: fine, connectorType: OnPremises, senderIPAddresses: ['192.0.2.0/24', '10.0.0.0/16'] }
`,
  );
  const r = cli(data, ['config', 'validate', '-f', f]);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.trim().split('\n');
  assert.equal(warnings.length, 2, r.stderr);
  assert.match(warnings[0] ?? '', /wide\.yaml: inboundConnectors\[0\]\.senderIPAddresses\[0\]: warning: 0\.0\.0\.0\/0 is wider than a \/16: connector "everyone" \(OnPremises\) trusts every client in it, and lets them relay/);
  assert.match(warnings[1] ?? '', /inboundConnectors\[1\]\.senderIPAddresses\[0\]: warning: 2001:db8::\/31 is wider than a \/32/);
});

test('report hunt reads the trace only: the configuration table with the users is refused', () => {
  const f = yamlFile('user.yaml', "users:\n  - { name: alice@example.com, passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA' }\n");
  assert.equal(cli(data, ['config', 'apply', '-f', f, '--force']).code, 0);
  for (const sql of ['SELECT * FROM config_version', "SELECT yaml FROM config_version WHERE yaml LIKE '%scrypt%'"]) {
    const r = cli(data, ['report', 'hunt', '--timeout', '120000', '--query', sql]);
    assert.equal(r.code, 2, `${sql}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /hunts read only the trace/);
    assert.doesNotMatch(r.stdout, /scrypt/);
  }
  // a generous time limit: it counts the hunt process's own start, slow on a loaded machine
  const ok = cli(data, ['report', 'hunt', '--timeout', '120000', '--query', 'SELECT count(*) AS n FROM trace_message', '--format', 'csv']);
  assert.equal(ok.code, 0, ok.stderr);
});
