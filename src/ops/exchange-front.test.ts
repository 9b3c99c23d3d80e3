/**
 * @module ops/exchange-front.test
 * The Exchange Online plan `route show --exchange` prints for a gateway in front of the tenant:
 * every cmdlet and parameter it emits exists in the reference's parameter tables (parsed from
 * /work/shared/reference/exchange-online.md §1.3, §1.4, §3.4, §5.2 when present, else the typed
 * table), the MX path gets a Partner connector and never an OnPremises `-SenderDomains *` one, and
 * the cut-over steps come in Microsoft's order (TTL, connectors, trace, MX, lock down, RejectDirectSend).
 * Touches: reads the reference file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configSchema, type Config } from '../config/index.ts';
import { EXCHANGE_CMDLETS } from './exchange-cmdlets.ts';
import { exchangeFrontScript } from './exchange-front.ts';

const REFERENCE = new URL('../../../shared/reference/exchange-online.md', import.meta.url);
const SHARED = '/work/shared/reference/exchange-online.md';

function referencePath(): string | undefined {
  const beside = fileURLToPath(REFERENCE);
  return [beside, SHARED].find((p) => existsSync(p));
}

/** Cmdlet → parameters as the reference documents them. */
function referenceCmdlets(text: string): Map<string, Set<string>> {
  const section = (head: string): string => {
    const start = text.indexOf(head);
    assert.ok(start >= 0, `reference has no section ${head}`);
    const end = text.indexOf('\n### ', start + head.length);
    return text.slice(start, end < 0 ? undefined : end);
  };
  const inbound = new Set<string>(['Identity']); // the selector of every Set-* cmdlet
  for (const row of section('### 3.4').split('\n').filter((l) => l.startsWith('| `'))) {
    const first = row.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([A-Za-z]+)`/g)) inbound.add(m[1] as string);
  }
  const soc = /`Set-OrganizationConfig((?: -[A-Za-z]+ \S+)+)`/.exec(section('### 1.3'))?.[1] ?? '';
  const trace = (/- Parameters: ([\s\S]+?) \(PS-MTV2\)/.exec(section('### 5.2'))?.[1] ?? '').replace(/\([^)]*\)/g, '');
  return new Map([
    ['New-InboundConnector', inbound],
    ['Set-InboundConnector', inbound],
    ['Set-OrganizationConfig', new Set([...soc.matchAll(/-([A-Za-z]+)/g)].map((m) => m[1] as string))],
    ['Get-MessageTraceV2', new Set(trace.split(/[,\s]+/).filter((p) => /^[A-Z]/.test(p)))],
    ['Get-MessageTraceDetailV2', new Set<string>()],
  ]);
}

function knownCmdlets(t: { skip(msg: string): void }): Map<string, Set<string>> {
  const p = referencePath();
  if (p) return referenceCmdlets(readFileSync(p, 'utf8'));
  const why = `the Exchange reference is not at ${fileURLToPath(REFERENCE)} or ${SHARED}; checking against the typed table only`;
  if (process.env.CI === 'true') assert.fail(`${why}: under CI it must be there`);
  t.skip(why);
  return new Map(Object.entries(EXCHANGE_CMDLETS).map(([c, ps]) => [c, new Set<string>(ps)]));
}

/** Every `Verb-Noun -Param value` segment of the script's command lines. */
function commands(script: string): { cmdlet: string; params: string[]; line: string }[] {
  return script
    .split('\n')
    .filter((l) => /^[A-Z][a-z]+-[A-Za-z0-9]+/.test(l))
    .flatMap((line) => line.split(' | ').map((seg) => ({ cmdlet: seg.split(' ')[0] as string, params: [...seg.matchAll(/ -([A-Za-z]+)/g)].map((m) => m[1] as string), line })));
}

function assertKnown(script: string, known: Map<string, Set<string>>): void {
  for (const c of commands(script)) {
    const params = known.get(c.cmdlet);
    assert.ok(params, `unknown cmdlet ${c.cmdlet} in: ${c.line}`);
    for (const p of c.params) assert.ok(params.has(p), `${c.cmdlet} has no parameter -${p} (reference §3.4/§1.3/§5.2): ${c.line}`);
  }
}

function config(routes: unknown[]): Config {
  return configSchema.parse({ acceptedDomains: [{ domainName: 'contoso.com' }], routes });
}

const EXO = { type: 'smtp', host: 'contoso-com.mail.protection.outlook.com', tls: 'required' };

test('the typed cmdlet table agrees with the reference (a misspelt parameter fails)', (t) => {
  const known = knownCmdlets(t);
  for (const [cmdlet, params] of Object.entries(EXCHANGE_CMDLETS)) {
    for (const p of params) assert.ok(known.get(cmdlet)?.has(p), `${cmdlet} -${p} is not in the reference`);
  }
  assert.ok(known.get('New-InboundConnector')?.has('RestrictDomainsToCertificate'));
  assert.ok(!known.get('New-InboundConnector')?.has('RestrictDomainToCertificate'));
});

test('the internet-MX route gets a Partner connector, locked down after the MX switch, never OnPremises -SenderDomains *', (t) => {
  const known = knownCmdlets(t);
  for (const id of [{ certName: 'relay.contoso.com' }, {}]) {
    for (const domains of [['*'], ['contoso.com']]) {
      const cfg = config([{ name: 'exo', domains, ...EXO }]);
      const route = cfg.routes[0]!;
      const s = exchangeFrontScript(route, cfg, id);
      assertKnown(s, known);
      assert.doesNotMatch(s, /^New-InboundConnector .*-ConnectorType OnPremises/m, s);
      assert.match(s, /^New-InboundConnector -Name "mailgate exo" -ConnectorType Partner -SenderDomains \* /m);
      assert.match(s, /^Set-InboundConnector -Identity "mailgate exo" -EFSkipLastIP \$true$/m);
      const lock = id.certName ? /-RestrictDomainsToCertificate \$true/ : /-RestrictDomainsToIPAddresses \$true/;
      const order = [/lower the TTL/, /^New-InboundConnector/m, /EFSkipLastIP/, /^Get-MessageTraceV2 -MessageId/m, /Switch the MX records/, lock, /^Set-OrganizationConfig -RejectDirectSend \$true$/m];
      const at = order.map((re) => s.search(re));
      assert.ok(at.every((i) => i >= 0), `missing step in:\n${s}`);
      assert.deepEqual([...at].sort((a, b) => a - b), at, `steps out of order:\n${s}`);
      if (id.certName) assert.match(s, /-ConnectorType Partner -SenderDomains \* -TlsSenderCertificateName relay\.contoso\.com -RequireTls \$true$/m);
      else assert.match(s, /-ConnectorType Partner -SenderDomains \* -SenderIPAddresses <your public IPv4> -RequireTls \$true$/m);
      if (domains[0] === '*') assert.match(s, /also carries mail to outside domains/);
    }
  }
});

test('an OnPremises connector only for a route that relays out and carries no MX traffic', (t) => {
  const known = knownCmdlets(t);
  const cfg = config([
    { name: 'in', domains: ['contoso.com'], ...EXO },
    { name: 'out', domains: ['*'], ...EXO },
  ]);
  const [inRoute, out] = cfg.routes as [Config['routes'][number], Config['routes'][number]];
  const relay = exchangeFrontScript(out, cfg, { certName: 'devices.contoso.com' });
  assertKnown(relay, known);
  assert.match(relay, /^New-InboundConnector -Name "mailgate out relay" -ConnectorType OnPremises -SenderDomains \* -TlsSenderCertificateName devices\.contoso\.com -RequireTls \$true$/m);
  assert.doesNotMatch(relay, /ConnectorType Partner/);
  // Without a certificate an IP match would also catch MX mail from the same IP: no OnPremises line.
  const byIp = exchangeFrontScript(out, cfg, {});
  assert.doesNotMatch(byIp, /^New-InboundConnector/m);
  assert.match(byIp, /Not printed/);
  const mx = exchangeFrontScript(inRoute, cfg, { certName: 'mx.contoso.com' });
  assert.doesNotMatch(mx, /OnPremises -SenderDomains/);
  assert.doesNotMatch(mx, /also carries mail to outside domains/);
});

test('the README\'s "In front of Exchange Online" connector commands use only documented parameters', (t) => {
  const known = knownCmdlets(t);
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## In front of Exchange Online');
  assert.ok(start >= 0, 'README has the section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  const lines = section.split('\n').map((l) => l.replace(/^\(`|`\)\.?$/g, '')).filter((l) => /^(New|Set|Get)-(InboundConnector|OrganizationConfig|MessageTraceV2)\b/.test(l));
  assert.ok(lines.length >= 6, `connector commands found: ${lines.length}`);
  assertKnown(lines.join('\n'), known);
  assert.doesNotMatch(section, /-ConnectorType OnPremises -SenderDomains \* -TlsSenderCertificateName mx\./);
});
