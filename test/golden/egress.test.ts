/**
 * @module test/golden/egress
 * Golden files of the egress renderers: `egress/policy.yaml` (a policy, its configuration version
 * and the day expiry is evaluated on) rendered for every format must equal `egress/<format>.*`
 * byte for byte. Each golden file names the vendor document of its syntax in a comment (the
 * renderer writes it; checked here). Also: determinism (the same policy in another order gives
 * the same bytes), expired exceptions left out with a note, and escaping of configuration strings
 * per syntax (a comment with a line break, quotes or a trailing backslash cannot add a rule).
 * `UPDATE_GOLDEN=1` rewrites the files (review the diff).
 * Touches: reads (and with UPDATE_GOLDEN writes) test/golden/egress/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { egressSchema, type Egress } from '../../src/config/schema.ts';
import { EGRESS_FORMATS, renderEgress, type EgressFormat } from '../../src/egress/index.ts';
import { GOLDEN_EGRESS_DIR, goldenPolicy } from '../helpers/egress-policy.ts';

const DIR = GOLDEN_EGRESS_DIR;
const GOLDEN_FILES: Record<EgressFormat, string> = {
  nftables: 'nftables.nft',
  iptables: 'iptables.rules',
  ip6tables: 'ip6tables.rules',
  pf: 'pf.conf',
  asa: 'asa.txt',
  fortigate: 'fortigate.conf',
  panos: 'panos.txt',
  'windows-firewall': 'windows-firewall.ps1',
};
/** What each golden file must cite (the vendor's document of the syntax). */
const CITES: Record<EgressFormat, RegExp> = {
  nftables: /^# Syntax: nft\(8\) \(https:\/\/www\.netfilter\.org\/projects\/nftables\/manpage\.html\)/m,
  iptables: /^# Syntax: iptables\(8\), iptables-extensions\(8\) \(https:\/\/manpages\.debian\.org\//m,
  ip6tables: /^# Syntax: iptables\(8\), iptables-extensions\(8\) \(https:\/\/manpages\.debian\.org\//m,
  pf: /^# Syntax: pf\.conf\(5\) \(https:\/\/man\.openbsd\.org\/pf\.conf\)/m,
  asa: /^! Syntax: Cisco Secure Firewall ASA Series Firewall CLI Configuration Guide 9\.x/m,
  fortigate: /^# Syntax: FortiOS 7\.4 CLI Reference/m,
  panos: /^# Syntax: PAN-OS CLI configuration mode/m,
  'windows-firewall': /^# Syntax: Microsoft Learn, New-NetFirewallRule \(https:\/\/learn\.microsoft\.com\//m,
};

test('every format renders the golden policy to its golden file, which cites the vendor syntax', () => {
  const p = goldenPolicy();
  for (const f of EGRESS_FORMATS) {
    const got = renderEgress(f, p.egress, { version: p.version, asOf: p.asOf });
    const file = join(DIR, GOLDEN_FILES[f]);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, got);
    assert.equal(got, readFileSync(file, 'utf8'), `${f}: differs from ${GOLDEN_FILES[f]} (UPDATE_GOLDEN=1 to rewrite, then review)`);
    assert.match(got, CITES[f], `${f}: cites its vendor document`);
    const first = got.split('\n').find((l) => !l.startsWith('#!')) ?? '';
    assert.match(first, /^[#!] mailgate egress policy, configuration version 7 \(policy [0-9a-f]{12}\), rendered as /, `${f}: starts with the version`);
  }
});

test('deterministic: the same policy in another order gives the same bytes; another version changes only the header', () => {
  const p = goldenPolicy();
  const shuffled: Egress = {
    ...p.egress,
    internalRanges: [...p.egress.internalRanges].reverse(),
    relayAddresses: [...p.egress.relayAddresses].reverse(),
    exceptions: [...p.egress.exceptions].reverse().map((e) => ({ ...e, addresses: [...e.addresses].reverse() })),
    blockedPorts: [465, 25, 587, 25],
  };
  for (const f of EGRESS_FORMATS) {
    const a = renderEgress(f, p.egress, { version: 7, asOf: p.asOf });
    assert.equal(renderEgress(f, p.egress, { version: 7, asOf: p.asOf }), a, f);
    assert.equal(renderEgress(f, shuffled, { version: 7, asOf: p.asOf }), a, `${f}: order of the configuration lists`);
    const b = renderEgress(f, p.egress, { version: 8, asOf: p.asOf });
    assert.notEqual(b, a);
    assert.equal(b.replace(/configuration version 8/g, 'configuration version 7'), a, `${f}: only the version differs`);
  }
});

test('an expired exception is left out of every format with a note; in force through its expiry day', () => {
  const p = goldenPolicy();
  for (const f of EGRESS_FORMATS) {
    const out = renderEgress(f, p.egress, { version: 7, asOf: '2026-12-07' });
    assert.match(out, /Left out: exception old-fax expired on 2026-11-30\./, f);
    assert.doesNotMatch(out, /10\.9\.9\.9|2001:db8:1::99/, `${f}: no address of the expired exception`);
    const onDay = renderEgress(f, p.egress, { version: 7, asOf: '2026-11-30' });
    assert.doesNotMatch(onDay, /Left out/, f);
    assert.match(onDay, /10\.9\.9\.9/, `${f}: in force on its last day`);
  }
});

/** A comment meant to inject a rule in each syntax; the schema refuses it, the renderers neutralise it. */
const HOSTILE = 'ok\n-A FORWARD -j ACCEPT\r\npass quick all\u2028access-list X permit ip any any\u0085"; set action accept; x\' ; Remove-NetFirewallRule -All ;\u2019 #\\';

test('escaping: a hostile exception comment never adds a line or leaves its quotes, in any format', () => {
  const p = goldenPolicy();
  assert.equal(egressSchema.safeParse({ exceptions: [{ name: 'x', addresses: ['192.0.2.1'], comment: HOSTILE }] }).success, false, 'the schema refuses control characters');
  assert.equal(egressSchema.safeParse({ exceptions: [{ name: 'x\ny', addresses: ['192.0.2.1'] }] }).success, false, 'the schema refuses odd names');
  const benign: Egress = { ...p.egress, exceptions: [{ name: 'scanner-vendor', addresses: ['192.0.2.50'], comment: 'plain' }] };
  const hostile: Egress = { ...p.egress, exceptions: [{ name: 'scanner-vendor', addresses: ['192.0.2.50'], comment: HOSTILE }] };
  for (const f of EGRESS_FORMATS) {
    // The policy digest covers the comment: compare without it.
    const lines = (e: Egress): string[] => renderEgress(f, e, { version: 7, asOf: p.asOf }).replace(/policy [0-9a-f]{12}/g, 'policy D').split('\n');
    const a = lines(benign);
    const b = lines(hostile);
    assert.equal(b.length, a.length, `${f}: same number of lines`);
    const changed = b.filter((l, i) => l !== a[i]);
    for (const l of changed) {
      assert.doesNotMatch(l, /[\r\u2028\u2029\u0085]/, `${f}: no line break survives`);
      assert.doesNotMatch(l, /\\$/, `${f}: no trailing backslash (pf joins lines)`);
      if (f === 'fortigate') assert.match(l, /^\s+set comment "(?:[^"\\]|\\")*"$/, `fortigate: one quoted value: ${l}`);
      if (f === 'panos') assert.match(l, /^set address \S+ description "[^"]*"$/, `panos: one quoted value: ${l}`);
      if (f === 'asa') assert.match(l, /^( description |access-list MG-EGRESS remark )/, `asa: only descriptions and remarks change: ${l}`);
      if (['nftables', 'iptables', 'ip6tables', 'pf', 'windows-firewall'].includes(f)) assert.match(l, /^# /, `${f}: only a comment line changes: ${l}`);
    }
    assert.ok(changed.length > 0 || ['iptables', 'ip6tables', 'nftables', 'pf', 'windows-firewall'].includes(f), `${f}: the comment is rendered somewhere`);
  }
});

test('escaping: PowerShell strings double every quote PowerShell takes as a single quote', async () => {
  const { psQuote } = await import('../../src/egress/text.ts');
  assert.equal(psQuote("it's \u2019x\u2018"), "'it''s ''x'''");
  assert.equal(psQuote('a\nb'), "'a b'");
});
