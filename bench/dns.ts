/**
 * @module bench/dns
 * The loopback DNS server of the "every check on" load: serves SPF, DMARC and a DKIM key for the
 * bench sender's domain (test/helpers/dns-server.ts, UDP and TCP on one port) until SIGTERM.
 * SPF passes for 127.0.0.0/8 and DMARC (p=reject) aligns on it, so every bench message runs the
 * whole SPF → DKIM (no signature: none) → DMARC → ARC path and is accepted.
 * usage: node --import tsx bench/dns.ts ADDR_FILE [DOMAIN]   (writes "127.0.0.1:PORT" to ADDR_FILE once serving)
 * Touches: a free 127.0.0.1 port (UDP and TCP), ADDR_FILE.
 */
import { writeFileSync } from 'node:fs';
import { startDnsServer } from '../test/helpers/dns-server.ts';

async function main(): Promise<void> {
  const addrFile = process.argv[2];
  if (!addrFile) throw new Error('usage: dns.ts ADDR_FILE [DOMAIN]');
  const domain = process.argv[3] ?? 'bench.invalid';
  const dns = await startDnsServer(
    {
      [domain]: { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'], MX: [[10, 'mx.' + domain]], A: ['127.0.0.1'] },
      [`_dmarc.${domain}`]: { TXT: ['v=DMARC1; p=reject; rua=mailto:dmarc@' + domain] },
      [`bench._domainkey.${domain}`]: { TXT: ['v=DKIM1; k=rsa; p='] },
    },
    { defaultTtl: 3600 },
  );
  writeFileSync(addrFile, dns.address + '\n');
  // The query log is only for tests; with the resolver's cache it stays small, but keep it bounded.
  setInterval(() => dns.resetLog(), 10_000).unref();
  const stop = (): void => void dns.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
