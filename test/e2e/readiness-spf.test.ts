/**
 * End to end: the Direct Send readiness report with SPF, DKIM and DMARC evaluated by the gateway
 * (and the organization's record checked live by the report) through a loopback DNS server:
 * a device in the org's SPF (ip4), a SaaS sender authorised through an include, and a spoofer
 * failing SPF, DKIM and DMARC — classified and recommended exactly; `trace search --spf/--dmarc`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.ts';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { applyConfig, baseConfig, cli, cliAsync, freePort, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';

let dns: TestDnsServer;
let sink: Sink;
let gw: Gateway;
let dir: string;
let port = 0;
const env = (): Record<string, string> => ({ MAILGATE_DNS_SERVERS: dns.address });

before(async () => {
  dns = await startDnsServer({
    'example.com': { TXT: ['v=spf1 ip4:127.0.0.2 include:_spf.saas.test -all'] },
    '_spf.saas.test': { TXT: ['v=spf1 ip4:127.0.0.3 -all'] },
    // p=none: the spoof is accepted (RejectDirectSend is off) and must show up in the report.
    '_dmarc.example.com': { TXT: ['v=DMARC1; p=none'] },
  });
  sink = await startSink();
  dir = tempDir();
  port = await freePort();
  applyConfig(dir, {
    ...baseConfig({ mx: port, submission: await freePort() }),
    routes: [{ name: 'hop', domains: ['*'], type: 'smtp', host: '127.0.0.1', port: sink.port, tls: 'none' }],
  });
  gw = await startGateway(dir, [port], { env: env() });
  const plan: Array<[string, string, string, number]> = [
    ['127.0.0.2', 'scanner@example.com', 'scan', 2],
    ['127.0.0.3', 'noreply@example.com', 'newsletter', 1],
    ['127.0.0.66', 'ceo@example.com', 'urgent wire', 2],
  ];
  for (const [ip, from, subject, n] of plan) {
    for (let i = 0; i < n; i++) {
      const c = await SmtpTestClient.connect({ port, localAddress: ip });
      await c.cmd('EHLO host.test');
      const r = await c.sendMail(from, ['user@example.com'], message({ from, to: 'user@example.com', subject: `${subject} ${i}` }));
      assert.equal(r.eod?.code, 250, r.eod?.text);
      await c.quit();
    }
  }
  // The trace writer flushes in batches: wait until all five rows are there with their SPF result,
  // rather than sleep a fixed time that a machine busy with every other test file can overrun.
  const traced = (): number => {
    const r = cli(dir, ['trace', 'search', '--since', '1d', '--format', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Array<{ spf?: string | null }>).filter((x) => x.spf).length : 0;
  };
  for (const end = Date.now() + 30_000; traced() < 5; ) {
    if (Date.now() > end) throw new Error('the trace never showed the five messages with their SPF results');
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  await dns?.stop();
  removeDir(dir);
});

interface Source {
  clientIp: string;
  sender: string;
  messages: number;
  spf: string;
  spfAuthorised: string;
  dmarc: string;
  classification: string;
  recommendation: string;
  powershell: string;
}

test('readiness report classifies by the live SPF record and the recorded results', async () => {
  const r = await cliAsync(dir, ['report', 'direct-send', '--since', '1d', '--internal', '10.0.0.0/8', '--format', 'json'], env());
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as { sources: Source[]; summary: string[] };
  const by = new Map(rep.sources.map((s) => [s.clientIp, s]));
  const byIp = (a: unknown[], b: unknown[]): number => String(a[0]).localeCompare(String(b[0]));
  assert.deepEqual(
    rep.sources.map((s) => [s.clientIp, s.sender, s.messages, s.classification]).sort(byIp),
    [
      ['127.0.0.2', 'scanner@example.com', 2, 'device-or-app'],
      ['127.0.0.3', 'noreply@example.com', 1, 'third-party-service'],
      ['127.0.0.66', 'ceo@example.com', 2, 'likely-spoof'],
    ],
  );
  assert.match(by.get('127.0.0.2')?.spfAuthorised ?? '', /pass.*ip4:127\.0\.0\.2/);
  assert.match(by.get('127.0.0.3')?.spfAuthorised ?? '', /pass.*include:_spf\.saas\.test/);
  assert.match(by.get('127.0.0.66')?.spfAuthorised ?? '', /fail/);
  assert.match(by.get('127.0.0.2')?.spf ?? '', /pass/);
  assert.match(by.get('127.0.0.66')?.spf ?? '', /fail/);
  assert.match(by.get('127.0.0.66')?.dmarc ?? '', /fail/);
  assert.equal(by.get('127.0.0.2')?.recommendation, "mailgate connector add 'Direct Send 127.0.0.2' --type Partner --sender-ip 127.0.0.2/32 --sender-domain example.com");
  assert.equal(by.get('127.0.0.66')?.recommendation, '# nothing to migrate: RejectDirectSend will stop it');
  assert.match(rep.summary[0] ?? '', /would reject 5 messages\/day from 3 sources \(1 of them likely spoof\)/);
});

test('trace search filters on the recorded SPF and DMARC results', () => {
  const spoof = cli(dir, ['trace', 'search', '--since', '1d', '--spf', 'fail', '--dmarc', 'fail', '--format', 'json']);
  assert.equal(spoof.code, 0, spoof.stderr);
  const rows = JSON.parse(spoof.stdout) as Array<{ clientIp: string }>;
  assert.deepEqual([...new Set(rows.map((x) => x.clientIp))], ['127.0.0.66']);
  assert.equal(rows.length, 2);
  const passing = JSON.parse(cli(dir, ['trace', 'search', '--since', '1d', '--spf', 'pass', '--format', 'json']).stdout) as unknown[];
  assert.equal(passing.length, 3);
  const suspects = JSON.parse(cli(dir, ['trace', 'search', '--since', '1d', '--spoof-suspect', '--format', 'json']).stdout) as unknown[];
  assert.equal(suspects.length, 2);
  assert.equal(cli(dir, ['trace', 'search', '--spf', 'maybe']).code, 2);
});
