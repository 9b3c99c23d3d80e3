/**
 * The admin listener of a real `mailgate serve` (single process and with receive workers): it
 * answers `GET /api/v1/health` with the release and configuration versions over plain HTTP on
 * loopback, speaks HTTPS when given a certificate, answers unknown routes with a problem document,
 * and a taken admin port stops serve with one line and exit 1, leaving no SMTP listener behind.
 * Touches: temp data dirs, loopback ports, the processes it starts (stopped by PID).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT, applyConfig, baseConfig, freePort, removeDir, startGateway, tempDir } from '../helpers/gateway.ts';
import { createTestCa, issueCert, writePem } from '../helpers/pki.ts';
import { releaseVersion } from '../../src/daemon/release.ts';

const READY_MS = 120_000; // a bound for a busy machine, not a timing assertion
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

async function ports(): Promise<{ mx: number; submission: number; admin: number }> {
  return { mx: await freePort(), submission: await freePort(), admin: await freePort() };
}

function listening(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

for (const workers of [1, 2]) {
  test(`serve --workers ${workers}: health and problem documents over plain HTTP on loopback`, async () => {
    const dir = tempDir();
    dirs.push(dir);
    const p = await ports();
    const version = applyConfig(dir, baseConfig(p));
    const gw = await startGateway(dir, [p.mx, p.submission, p.admin], { workers, readyMs: READY_MS });
    try {
      const r = await fetch(`http://127.0.0.1:${p.admin}/api/v1/health`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { status: 'ok', version: releaseVersion(), configVersion: version });
      const nf = await fetch(`http://127.0.0.1:${p.admin}/nothing`);
      assert.equal(nf.status, 404);
      assert.match(nf.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match(gw.log(), /admin listener ready/);
    } finally {
      await gw.stop();
    }
  });
}

test('with a certificate the admin listener speaks HTTPS (plain HTTP is refused)', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const ca = createTestCa();
  const leaf = issueCert(ca, { cn: 'localhost', sans: ['localhost'], server: true });
  const certFile = writePem(dir, 'admin.crt', leaf.cert);
  const keyFile = writePem(dir, 'admin.key', leaf.key);
  const p = await ports();
  applyConfig(dir, baseConfig(p, { admin: { enabled: true, bind: `127.0.0.1:${p.admin}`, certFile, keyFile } }));
  const gw = await startGateway(dir, [p.mx, p.submission, p.admin], { workers: 1, readyMs: READY_MS });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: p.admin, path: '/api/v1/health', ca: ca.cert, servername: 'localhost' }, (res) => {
          let out = '';
          res.on('data', (d: Buffer) => (out += d.toString()));
          res.on('end', () => resolve(out));
        })
        .on('error', reject);
    });
    assert.equal((JSON.parse(body) as { status: string }).status, 'ok');
    await assert.rejects(fetch(`http://127.0.0.1:${p.admin}/api/v1/health`));
  } finally {
    await gw.stop();
  }
});

test('a taken admin port stops serve: one line naming it, exit 1, no SMTP listener left', async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const busy = (taken.address() as net.AddressInfo).port;
  try {
    const dir = tempDir();
    dirs.push(dir);
    const p = { mx: await freePort(), submission: await freePort(), admin: busy };
    applyConfig(dir, baseConfig(p));
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), '--data', dir, 'serve', '--workers', '1'], {
        cwd: ROOT,
        env: { ...process.env, MAILGATE_LOG_LEVEL: 'info', MAILGATE_DNS_SERVERS: '127.0.0.1:1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const t = setTimeout(() => proc.pid && process.kill(-proc.pid, 'SIGKILL'), 120_000); // a bound
      proc.once('close', (code) => {
        clearTimeout(t);
        res({ code, stdout, stderr });
      });
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(
      r.stderr,
      `mailgate: admin listener cannot listen on 127.0.0.1:${busy}: address already in use (another process, or another mailgate, listens there) (EADDRINUSE); set admin.bind or admin.enabled: false\n`,
    );
    assert.equal(await listening(p.mx), false, 'the SMTP listener that had started is closed');
  } finally {
    taken.close();
  }
});
