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
 * usage: node --import tsx bench/mailgate-config.ts DIR full|noauth|off PORT SINK_PORT [SENDER_DOMAIN]
 * Touches: DIR/mailgate.db only.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../src/core/sqlite.ts';
import { ConfigStore, loadExampleConfig, validateConfig, type ConfigInput } from '../src/config/index.ts';

/** The bench config for one mode. */
export type BenchMode = 'full' | 'noauth' | 'off';

export function benchConfig(mode: BenchMode, port: number, sinkPort: number, senderDomain: string): ConfigInput {
  const ex = loadExampleConfig();
  const full = mode !== 'off';
  return {
    ...ex,
    organization: { ...ex.organization, name: 'example.com', hostname: 'mailgate.bench.invalid', rejectDirectSend: full },
    authentication: { enabled: mode === 'full', deadlineMs: 8000 },
    acceptedDomains: [
      { domainName: 'example.com', domainType: 'Authoritative' },
      ...(full ? [{ domainName: senderDomain, domainType: 'Authoritative' as const }] : []),
    ],
    inboundConnectors: full
      ? [{ name: 'bench-source', connectorType: 'Partner', senderIPAddresses: ['127.0.0.1/32'], senderDomains: [senderDomain] }]
      : [],
    receiveConnectors: [
      // Every bench load comes from 127.0.0.1 (load 3 holds 1,000 idle connections): no per-client limit.
      { name: 'mx', bind: '127.0.0.1', port, role: 'mx', tls: { mode: 'starttls', requestClientCert: true }, greetingDelayMs: 0, maxConnectionsPerClient: 0 },
    ],
    routes: [{ name: 'sink', domains: ['*'], type: 'smtp', host: '127.0.0.1', port: sinkPort, tls: 'none' }],
  };
}

function main(argv: string[]): void {
  const [dir, mode, port, sinkPort, domain] = argv;
  if (!dir || (mode !== 'full' && mode !== 'noauth' && mode !== 'off') || !port || !sinkPort) {
    console.error('usage: mailgate-config.ts DIR full|noauth|off PORT SINK_PORT [SENDER_DOMAIN]');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const store = new ConfigStore(db);
    const cfg = validateConfig(benchConfig(mode, Number(port), Number(sinkPort), domain ?? 'bench.invalid'));
    const v = store.save(cfg, 'bench', `benchmark (${mode})`);
    console.log(`config version ${v} (${mode}) in ${dir}`);
  } finally {
    db.close();
  }
}

main(process.argv.slice(2));
