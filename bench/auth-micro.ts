/**
 * @module bench/auth-micro
 * Micro-benchmark of auth/authenticate with a warm resolver cache: a DKIM-signed (RSA-2048)
 * 4 KB message whose domain has SPF and DMARC records, N calls one after another, prints the
 * median and p99 milliseconds per message. The target is a median under 2 ms.
 * Run: node --import tsx bench/auth-micro.ts [N]
 * Touches: 127.0.0.1 sockets (the in-process test DNS server).
 */
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { authenticate, createResolver } from '../src/auth/index.ts';
import { signDkim } from '../test/helpers/dkim.ts';
import { startDnsServer } from '../test/helpers/dns-server.ts';

const N = Number(process.argv[2] ?? 2000);
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const dns = await startDnsServer({
  'contoso.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 include:_spf.contoso.example -all'] },
  '_spf.contoso.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
  '_dmarc.contoso.example': { TXT: ['v=DMARC1; p=reject; rua=mailto:d@contoso.example'] },
  'sel1._domainkey.contoso.example': { TXT: [`v=DKIM1; k=rsa; p=${pub}`] },
  'mail.contoso.example': { A: ['192.0.2.10'], TXT: ['v=spf1 a -all'] },
});
const resolver = createResolver({ servers: [dns.address] });

const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n';
const body = line.repeat(Math.ceil(3800 / line.length));
const head = 'From: Alice <alice@contoso.example>\r\nTo: <bob@fabrikam.example>\r\nSubject: quarterly report\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\nMessage-ID: <bench@contoso.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n';
const raw = Buffer.from(head + body);
const message = await signDkim(raw, { domain: 'contoso.example', selector: 'sel1', privateKey: priv });

const input = { message, clientIp: '192.0.2.10', helo: 'mail.contoso.example', mailFrom: 'alice@contoso.example', mta: 'mx.mailgate.test' };
const first = await authenticate(input, { resolver: resolver.resolve });
if (first.dmarc.result !== 'pass' || first.dkim[0]?.result !== 'pass') throw new Error(`bench setup broken: ${first.authResultsHeader}`);
for (let i = 0; i < 200; i++) await authenticate(input, { resolver: resolver.resolve }); // warm JIT

const times: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  await authenticate(input, { resolver: resolver.resolve });
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const pick = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
const s = resolver.stats();
console.log(`auth-micro: ${N} messages of ${message.length} bytes, warm cache`);
console.log(`median ${pick(0.5).toFixed(3)} ms, p90 ${pick(0.9).toFixed(3)} ms, p99 ${pick(0.99).toFixed(3)} ms, max ${pick(1).toFixed(3)} ms`);
console.log(`resolver: ${s.queries} queries, ${s.hits} hits, ${s.upstream} upstream, ${dns.queries.length} seen by the DNS server`);
await dns.stop();
