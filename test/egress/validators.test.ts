/**
 * The nftables and iptables outputs through the real parsers (Debian's nftables and iptables):
 * `nft -c -f` on the nftables ruleset, `iptables-restore --test` and `ip6tables-restore --test`
 * on each family, for several policies (the golden one, drop without log, IPv4 only, no relay, more
 * ports than one multiport rule takes). `iptables-restore --test` takes a misspelled target such
 * as `-j REJEKT` as a chain name, so every `-j` target is also checked to be a built-in (ACCEPT,
 * DROP, REJECT, LOG, RETURN) or the chain the file itself declares; a negative control shows both
 * checks catch a broken file. Skips with a message when the tools or root are missing, except
 * under CI=true, where it must run (.ci/run installs the packages).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { egressSchema, type Egress } from '../../src/config/schema.ts';
import { IPTABLES_CHAIN, renderEgress } from '../../src/egress/index.ts';
import { goldenPolicy } from '../helpers/egress-policy.ts';

const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT', 'LOG', 'RETURN']);

function tool(name: string): string | undefined {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    const p = join(dir, name);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return undefined;
}

/** Why the validators cannot run here, or undefined. */
function missing(names: string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (the netfilter tools need CAP_NET_ADMIN)';
  const gone = names.filter((n) => !tool(n));
  return gone.length ? `${gone.join(', ')} not installed (apt-get install nftables iptables)` : undefined;
}

function skipOrFail(t: { skip(msg: string): void }, why: string): void {
  if (process.env.CI === 'true') assert.fail(`${why}; under CI=true the egress validators must run`);
  t.skip(why);
}

const policies = (): Record<string, Egress> => {
  const g = goldenPolicy().egress;
  return {
    golden: g,
    'drop, no log': { ...g, action: 'drop', log: false },
    'IPv4 only': egressSchema.parse({ internalRanges: ['10.0.0.0/8'], relayAddresses: ['10.0.0.25'] }),
    'no relay': egressSchema.parse({ relayAddresses: [] }),
    'many ports': { ...g, blockedPorts: Array.from({ length: 20 }, (_, i) => 2500 + i).concat([25, 465, 587]) },
  };
};

let dir = '';
function file(name: string, text: string): string {
  dir ||= mkdtempSync(join(tmpdir(), 'mailgate-egress-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Every `-j` target of an iptables-restore file that is neither built-in nor declared in it. */
function unknownTargets(text: string): string[] {
  const declared = new Set([...text.matchAll(/^:(\S+) /gm)].map((m) => m[1] ?? ''));
  return [...text.matchAll(/ -j (\S+)/g)].map((m) => m[1] ?? '').filter((t) => !BUILTIN_TARGETS.has(t) && !declared.has(t));
}

test('nft -c -f accepts the nftables ruleset of every policy; a broken one is refused', (t) => {
  const why = missing(['nft']);
  if (why) return skipOrFail(t, why);
  try {
    for (const [name, e] of Object.entries(policies())) {
      const f = file(`${name.replace(/\W+/g, '-')}.nft`, renderEgress('nftables', e, { version: 3, asOf: '2026-12-07' }));
      const r = spawnSync(tool('nft') ?? 'nft', ['-c', '-f', f], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, `${name}: nft -c -f refused it:\n${r.stderr}`);
    }
    const broken = file('broken.nft', renderEgress('nftables', policies()['golden'] as Egress, { version: 3, asOf: '2026-12-07' }).replace('reject with tcp reset', 'rejekt with tcp reset'));
    assert.notEqual(spawnSync(tool('nft') ?? 'nft', ['-c', '-f', broken], { timeout: 20_000 }).status, 0, 'nft -c must refuse a misspelled verdict');
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true }), (dir = '');
  }
});

test('iptables-restore --test and ip6tables-restore --test accept each family; every target is built-in or the declared chain', (t) => {
  const why = missing(['iptables-restore', 'ip6tables-restore']);
  if (why) return skipOrFail(t, why);
  try {
    for (const [name, e] of Object.entries(policies())) {
      for (const [format, bin] of [['iptables', 'iptables-restore'], ['ip6tables', 'ip6tables-restore']] as const) {
        const text = renderEgress(format, e, { version: 3, asOf: '2026-12-07' });
        assert.deepEqual(unknownTargets(text), [], `${name}/${format}: only built-in targets and ${IPTABLES_CHAIN}`);
        assert.deepEqual([...text.matchAll(/^:(\S+) /gm)].map((m) => m[1]), [IPTABLES_CHAIN], `${name}/${format}: declares only its own chain`);
        const f = file(`${name.replace(/\W+/g, '-')}.${format}`, text);
        const r = spawnSync(tool(bin) ?? bin, ['--test', '--noflush', f], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(r.status, 0, `${name}: ${bin} --test refused it:\n${r.stderr}`);
      }
    }
    // Negative controls: the misspelled target passes iptables-restore --test but not the target check;
    // an IPv4 file fails ip6tables-restore.
    const v4 = renderEgress('iptables', policies()['golden'] as Egress, { version: 3, asOf: '2026-12-07' });
    const misspelled = v4.replace('-j REJECT', '-j REJEKT');
    assert.deepEqual(unknownTargets(misspelled), ['REJEKT']);
    assert.notEqual(spawnSync(tool('ip6tables-restore') ?? 'ip6tables-restore', ['--test', '--noflush', file('v4-as-v6', v4)], { timeout: 20_000 }).status, 0, 'ip6tables-restore must refuse IPv4 addresses');
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true }), (dir = '');
  }
});
