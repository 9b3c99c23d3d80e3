/**
 * @module bench/auth-micro
 * Micro-benchmark of auth/authenticate as the gateway runs it (warm resolver cache, SPF and DMARC
 * result caches): a DKIM-signed (RSA-2048) 4 KB message whose domain has SPF and DMARC records, or
 * with --unsigned the same message without its signature, evaluated as smtp/auth-run does an
 * unsigned message, from its header block alone (--whole: the whole message); N calls one after
 * another; prints the median and p99 milliseconds per message and the CPU per message. The issue's
 * target is a median under 2 ms.
 * Run: node --import tsx bench/auth-micro.ts [N] [--unsigned [--whole]]
 * Touches: 127.0.0.1 sockets (the in-process test DNS server).
 */
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { authenticate, createResolver, DmarcCache, SpfCache } from '../src/auth/index.ts';
import { signDkim } from '../test/helpers/dkim.ts';
import { startDnsServer } from '../test/helpers/dns-server.ts';

const args = process.argv.slice(2);
const unsigned = args.includes('--unsigned');
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 2000);
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
const whole = args.includes('--whole');
const message = unsigned ? (whole ? raw : Buffer.from(head)) : await signDkim(raw, { domain: 'contoso.example', selector: 'sel1', privateKey: priv });

const input = { message, clientIp: '192.0.2.10', helo: 'mail.contoso.example', mailFrom: 'alice@contoso.example', mta: 'mx.mailgate.test' };
// As daemon/auth builds it: the process's resolver and SPF and DMARC result caches over it.
const deps = { resolver: resolver.resolve, tracked: resolver.tracked, cache: new SpfCache(), dmarcCache: new DmarcCache() };
const first = await authenticate(input, deps);
if (first.dmarc.result !== 'pass' || (!unsigned && first.dkim[0]?.result !== 'pass')) throw new Error(`bench setup broken: ${first.authResultsHeader}`);
for (let i = 0; i < 200; i++) await authenticate(input, deps); // warm JIT

const times: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  await authenticate(input, deps);
  times.push(performance.now() - t0);
}
const cpu = process.cpuUsage(cpu0);
times.sort((a, b) => a - b);
const pick = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
const s = resolver.stats();
console.log(`auth-micro: ${N} ${unsigned ? (whole ? 'unsigned (whole)' : 'unsigned (header block)') : 'DKIM-signed'} messages, ${message.length} bytes evaluated, warm caches`);
console.log(`median ${pick(0.5).toFixed(3)} ms, p90 ${pick(0.9).toFixed(3)} ms, p99 ${pick(0.99).toFixed(3)} ms, max ${pick(1).toFixed(3)} ms`);
console.log(`CPU ${((cpu.user + cpu.system) / N).toFixed(0)} µs per message`);
console.log(`resolver: ${s.queries} queries, ${s.hits} hits, ${s.upstream} upstream, ${dns.queries.length} seen by the DNS server; SPF cache: ${deps.cache.hits} hits, DMARC cache: ${deps.dmarcCache.hits} hits`);
await dns.stop();
