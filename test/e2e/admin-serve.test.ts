/**
 * What an admin sees of a running gateway, through real `mailgate serve` processes: a listener
 * whose port is taken stops serve with one line and exit 1 (single process and with workers),
 * leaving nothing listening and no "ready"; `policy test` says 5.7.509 where serve does for a
 * DMARC p=reject failure (both on the same loopback DNS server); refusals are logged at info with
 * IP, MAIL FROM, code and trace id, at most 10 lines per client IP per minute; a configuration
 * change is logged with what changed; a client reset is a debug line without a stack; and the
 * log is readable with MAILGATE_LOG_FORMAT=pretty.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.ts';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { ROOT, applyConfig, baseConfig, cli, cliAsync, freePort, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';

let dns: TestDnsServer;
const dirs: string[] = [];
before(async () => {
  dns = await startDnsServer({
    'bank.test': { TXT: ['v=spf1 ip4:192.0.2.99 -all'] },
    '_dmarc.bank.test': { TXT: ['v=DMARC1; p=reject'] },
  });
});
after(async () => {
  await dns?.stop();
  dirs.forEach(removeDir);
});

function listening(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** Run `serve` to its end (it must end by itself); output and exit code. */
function serveToEnd(dir: string, workers: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), '--data', dir, 'serve', '--workers', String(workers)], {
      cwd: ROOT,
      env: { ...process.env, MAILGATE_LOG_LEVEL: 'info', MAILGATE_DNS_SERVERS: '127.0.0.1:1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.pid && process.kill(-p.pid, 'SIGKILL'), 120_000); // a bound, not a timing assertion
    p.once('close', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}

test('a listener whose port is taken stops serve: one line naming it, exit 1, nothing left listening', async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const busy = (taken.address() as net.AddressInfo).port;
  try {
    for (const workers of [1, 2]) {
      const dir = tempDir();
      dirs.push(dir);
      const mx = await freePort();
      // mx starts first and listens; submission then fails: mx must be closed again.
      applyConfig(dir, baseConfig({ mx, submission: busy }));
      const r = await serveToEnd(dir, workers);
      assert.equal(r.code, 1, `workers=${workers}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, `mailgate: receive connector "submission" cannot listen on 127.0.0.1:${busy}: address already in use (another process, or another mailgate, listens there) (EADDRINUSE)\n`);
      assert.doesNotMatch(r.stdout, /mailgate ready/);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(await listening(mx), false, `workers=${workers}: the listener that had started is closed`);
    }
  } finally {
    taken.close();
  }
});

test('policy test says 5.7.509 where serve does for a DMARC p=reject failure', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const port = await freePort();
  applyConfig(dir, baseConfig({ mx: port, submission: await freePort() }));
  const env = { MAILGATE_DNS_SERVERS: dns.address };
  const gw = await startGateway(dir, [port], { env });
  try {
    const c = await SmtpTestClient.connect({ port });
    await c.cmd('EHLO client.test');
    const sent = await c.sendMail('ceo@bank.test', ['postmaster@example.com'], message({ from: 'ceo@bank.test', to: 'postmaster@example.com', subject: 'wire' }));
    await c.quit();
    assert.match(sent.eod?.text ?? '', /^550 5\.7\.509 Access denied, sending domain bank\.test does not pass DMARC/);

    const what = await cliAsync(dir, ['policy', 'test', '--ip', '127.0.0.1', '--helo', 'client.test', '--from', 'ceo@bank.test', '--to', 'postmaster@example.com'], env);
    assert.equal(what.code, 0, what.stderr);
    assert.match(what.stdout, /^eod .*550 5\.7\.509 Access denied, sending domain bank\.test does not pass DMARC verification and has a DMARC policy of reject\./m);
    assert.match(what.stdout, /^authentication: spf=fail \(evaluated\) dkim=none .* dmarc=fail p=reject header\.from=bank\.test \(evaluated\)$/m);
    assert.match(what.stdout, /verdict: REJECTED/);
    const stated = await cliAsync(dir, ['policy', 'test', '--ip', '127.0.0.1', '--from', 'ceo@bank.test', '--to', 'postmaster@example.com', '--spf', 'pass'], env);
    assert.match(stated.stdout, /dmarc=pass/);
    assert.match(stated.stdout, /verdict: ACCEPTED/, 'an aligned SPF pass passes DMARC');
    const noDns = cli(dir, ['policy', 'test', '--ip', '127.0.0.1', '--from', 'x@other.test', '--to', 'postmaster@example.com', '--spf', 'fail', '--dmarc', 'fail', '--dmarc-policy', 'reject', '--format', 'json']);
    const eod = (JSON.parse(noDns.stdout) as Array<{ stage: string; reply: string; auth: string }>).find((r) => r.stage === 'eod');
    assert.match(eod?.reply ?? '', /^550 5\.7\.509 .*other\.test/);
    assert.match(eod?.auth ?? '', /dmarc=fail p=reject header\.from=other\.test \(stated\)/);
  } finally {
    await gw.stop();
  }
});

test('logs: refusals at info (rate-limited per IP), config changes with what changed, resets at debug, pretty format', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const port = await freePort();
  applyConfig(dir, { ...baseConfig({ mx: port, submission: await freePort() }), organization: { name: 'example.com', rejectDirectSend: true } });
  const gw: Gateway = await startGateway(dir, [port], { env: { MAILGATE_LOG_FORMAT: 'pretty', MAILGATE_LOG_LEVEL: 'debug' } });
  try {
    const c = await SmtpTestClient.connect({ port });
    await c.cmd('EHLO printer.local');
    const ids: string[] = [];
    for (let i = 0; i < 14; i++) {
      await c.cmd('RSET');
      await c.cmd(`MAIL FROM:<scanner${i}@example.com>`);
      const r = await c.cmd('RCPT TO:<alice@example.com>');
      assert.match(r.text, /^550 5\.7\.68 /);
      const id = /\[([0-9A-Z]+)@/.exec(r.text)?.[1];
      if (id) ids.push(id);
      if (i === 8) break; // maxErrors is 10: stay under it on this session
    }
    await c.quit().catch(() => undefined);
    const c2 = await SmtpTestClient.connect({ port });
    await c2.cmd('EHLO printer.local');
    for (let i = 9; i < 14; i++) {
      await c2.cmd('RSET');
      await c2.cmd(`MAIL FROM:<scanner${i}@example.com>`);
      await c2.cmd('RCPT TO:<alice@example.com>');
    }
    await c2.quit().catch(() => undefined);

    // A client that resets mid-transaction (smtp-server ignores a reset outside one).
    const reset = net.connect({ port, host: '127.0.0.1' });
    const lines = async (n: number): Promise<void> => {
      let got = '';
      while (got.split('\r\n').filter((l) => /^\d{3} /.test(l)).length < n) got += String(await new Promise((r) => reset.once('data', r)));
    };
    await lines(1);
    reset.write('HELO reset.test\r\n');
    await lines(1);
    reset.write('MAIL FROM:<someone@outside.example>\r\n');
    await lines(1);
    reset.resetAndDestroy();

    const set = cli(dir, ['org', 'set', '--reject-direct-send', 'false', '--comment', 'pilot over']);
    assert.equal(set.code, 0, set.stderr);
    const until = Date.now() + 15_000;
    while (!/configuration version 2 in force/.test(gw.log()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const log = gw.log();

    const refused = log.split('\n').filter((l) => / INFO  mailgate: refused/.test(l));
    assert.equal(refused.length, 10, `at most 10 refusal lines per IP per minute:\n${refused.join('\n')}`);
    assert.match(refused[0] ?? '', new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  mailgate: refused ip=127\\.0\\.0\\.1 listener=mx mailFrom=scanner0@example\\.com rcpt=alice@example\\.com attribution=direct-send code="550 5\\.7\\.68" id=${ids[0]} reply=`));
    assert.match(refused[9] ?? '', /further refusals from 127\.0\.0\.1 this minute are counted, not logged: at most 10 lines per IP per minute/);
    assert.match(log, /INFO  mailgate: configuration version 2 in force: organization\.rejectDirectSend true→false .*comment="pilot over"/);
    assert.match(log, /DEBUG mailgate: client connection error .*code=ECONNRESET/);
    assert.doesNotMatch(log, /listener error/);
    assert.doesNotMatch(log, /\n\s+at /, 'no stack trace in the log');
    assert.match(log, /^\d\d:\d\d:\d\d\.\d{3} INFO  mailgate: mailgate ready version=1 workers=1$/m);
  } finally {
    await gw.stop();
  }
});
