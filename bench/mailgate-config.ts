/**
 * @module bench/mailgate-config
 * Prepares a mailgate data dir for the benchmark: writes one config version into DIR/mailgate.db
 * (as `mailgate config apply` would), with the mx listener on the bench port (no banner pause)
 * and one smtp route for every domain to the shared smtp-sink next hop.
 *   full: RejectDirectSend on, the bench sender's domain accepted (so only its connector lets it
 *         through), a Partner connector for 127.0.0.1 + that domain, SPF/DKIM/DMARC/ARC evaluated
 *         against the loopback DNS server (bench/dns.ts), trace on (it always is).
 *   noauth: full without SPF/DKIM/DMARC/ARC (splits the policy cost into connectors vs auth).
 *   off:  authentication.enabled false, no connectors, RejectDirectSend off.
 *   rules: full with 20 enabled transport rules (envelope, IP, attribution, auth and header
 *         conditions; one tags every message with a header, none reads the body): the issue-21 goal
 *         is throughput at load A within 10 % of full.
 * usage: node --import tsx bench/mailgate-config.ts DIR full|noauth|off|rules PORT SINK_PORT [SENDER_DOMAIN]
 * Touches: DIR/mailgate.db only.
 */
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { openDatabase } from '../src/core/sqlite.ts';
import { SqliteConfigStore } from '../src/stores/sqlite/config-store.ts';
import { loadExampleConfig, validateConfig, type ConfigInput } from '../src/config/index.ts';

/** The bench config for one mode. */
export type BenchMode = 'full' | 'noauth' | 'off' | 'rules';

/** 20 enabled rules: 19 that the bench traffic does not meet, and one header tag that it always does. */
export function benchRules(): NonNullable<ConfigInput['transportRules']> {
  const rules: NonNullable<ConfigInput['transportRules']> = [];
  const conds: Array<Record<string, unknown>> = [
    { attributionIs: ['direct-send'] },
    { connectorIs: ['none'], senderDomainIs: ['example.com'] },
    { senderIpRanges: ['192.0.2.0/24', '2001:db8::/32'] },
    { spoofSuspect: true },
    { dmarc: ['fail'], fromScope: 'NotInOrganization' },
    { headerContainsWords: { header: 'X-Mailer', words: ['massmailer'] } },
    { headerMatchesPatterns: { header: 'X-Campaign', patterns: ['^promo-[0-9]{4}$'] } },
    { recipientDomainIs: ['partner.example'] },
    { messageSizeOver: 10_000_000 },
    { fromAddressContainsWords: ['noreply-invoices'] },
  ];
  for (let i = 0; i < 19; i++) rules.push({ name: `bench ${i}`, priority: i, mode: i % 2 ? 'Audit' : 'Enforce', conditions: conds[i % conds.length] as never, actions: i % 3 ? { quarantine: true } : { prependSubject: '[X] ' } });
  rules.push({ name: 'bench tag', priority: 19, conditions: { connectorIs: ['bench-source'] }, actions: { setHeader: { name: 'X-Bench-Rule', value: 'seen' } } });
  return rules;
}

export function benchConfig(mode: BenchMode, port: number, sinkPort: number, senderDomain: string): ConfigInput {
  const ex = loadExampleConfig();
  const full = mode !== 'off';
  const auth = mode === 'full' || mode === 'rules';
  return {
    ...ex,
    organization: { ...ex.organization, name: 'example.com', hostname: 'mailgate.bench.invalid', rejectDirectSend: full },
    authentication: { enabled: auth, deadlineMs: 8000 },
    acceptedDomains: [
      { domainName: 'example.com', domainType: 'Authoritative' },
      ...(full ? [{ domainName: senderDomain, domainType: 'Authoritative' as const }] : []),
    ],
    inboundConnectors: full
      ? [{ name: 'bench-source', connectorType: 'Partner', senderIPAddresses: ['127.0.0.1/32'], senderDomains: [senderDomain] }]
      : [],
    // The bench scrapes nothing: no admin listener taking 8025 beside a gateway on its defaults.
    admin: { enabled: false },
    receiveConnectors: [
      // Every bench load comes from 127.0.0.1 (load 3 holds 1,000 idle connections): no per-client limit.
      { name: 'mx', bind: '127.0.0.1', port, role: 'mx', tls: { mode: 'starttls', requestClientCert: true }, greetingDelayMs: 0, maxConnectionsPerClient: 0 },
    ],
    routes: [{ name: 'sink', domains: ['*'], type: 'smtp', host: '127.0.0.1', port: sinkPort, tls: 'none' }],
    ...(mode === 'rules' ? { transportRules: benchRules() } : {}),
  };
}

function main(argv: string[]): void {
  const [dir, mode, port, sinkPort, domain] = argv;
  if (!dir || (mode !== 'full' && mode !== 'noauth' && mode !== 'off' && mode !== 'rules') || !port || !sinkPort) {
    console.error('usage: mailgate-config.ts DIR full|noauth|off|rules PORT SINK_PORT [SENDER_DOMAIN]');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const store = new SqliteConfigStore(db);
    const cfg = validateConfig(benchConfig(mode, Number(port), Number(sinkPort), domain ?? 'bench.invalid'));
    const v = store.saveNow(cfg, 'bench', `benchmark (${mode})`);
    console.log(`config version ${v} (${mode}) in ${dir}`);
  } finally {
    db.close();
  }
}

// Run only as a script (bench/rules-micro.ts imports the configs).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
