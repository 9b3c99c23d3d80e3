/**
 * @module test/e2e/service
 * Running mailgate as a service (README "Run as a service"): the systemd unit in deploy/ verifies;
 * its ExecStart line, started by a parent as systemd starts it, stops whole on SIGTERM to that
 * PID (primary and receive workers, nothing left listening); the workers of a primary killed
 * with SIGKILL stop on their own; SIGHUP reloads the configuration in every process and stops
 * nothing; `npm start` stopped with SIGTERM to the npm process stops the gateway (npm forwards
 * SIGTERM to its script's shell, which has exec'd the gateway).
 * Touches: temp data dirs, loopback ports, the processes it starts (stopped by PID), dist/ (npm start builds it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, applyConfig, baseConfig, cli, freePort, removeDir, startGateway, tempDir, waitForPort } from '../helpers/gateway.ts';
import { accepts, alive, commandLine, descendants, killAll, listenerOwners, waitGone } from '../helpers/processes.ts';

/** A busy shared machine can take long to start a gateway: not a timed assertion, a bound. */
const READY_MS = 120_000;

const UNIT = join(ROOT, 'deploy', 'mailgate.service');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const ENV = { ...process.env, MAILGATE_LOG_LEVEL: 'info', MAILGATE_DNS_SERVERS: '127.0.0.1:1' };

function hasTool(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/** Skip (outside CI) when a tool is missing; under CI=true the test runs and fails instead. */
function needs(t: { skip(msg: string): void }, tool: string, args: string[]): boolean {
  if (hasTool(tool, args) || process.env.CI === 'true') return true;
  t.skip(`${tool} is not installed`);
  return false;
}

function unitValue(key: string): string {
  const line = readFileSync(UNIT, 'utf8').split('\n').find((l) => l.startsWith(`${key}=`));
  assert.ok(line, `${key}= in ${UNIT}`);
  return line.slice(key.length + 1);
}

async function dataDir(): Promise<{ dir: string; ports: number[] }> {
  const dir = tempDir('mailgate-service-');
  const ports = { mx: await freePort(), submission: await freePort() };
  applyConfig(dir, baseConfig(ports));
  return { dir, ports: [ports.mx, ports.submission] };
}

function collect(p: ChildProcess): () => string {
  let out = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

/**
 * Nothing of the gateway's listens on `port` any more. Asked of the kernel (who holds a LISTEN
 * socket on it), not by connecting: another test's server may be handed a freed port at once.
 */
async function noListenerOf(t: { diagnostic(msg: string): void }, port: number, ours: readonly number[], dir: string): Promise<void> {
  const until = Date.now() + 5_000;
  let owners = listenerOwners(port);
  // Ours: a PID we saw, or any process started on this data directory (a worker we did not see).
  const bad = (): number[] => owners.filter((o) => o === -1 || ours.includes(o) || commandLine(o).includes(dir));
  while (bad().length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    owners = listenerOwners(port);
  }
  const named = owners.map((o) => `${o} ${o === -1 ? '(owner unreadable)' : commandLine(o)}`);
  assert.deepEqual(bad(), [], `nothing of the gateway listening on ${port}; listeners: ${named.join('; ')}`);
  if (owners.length > 0) t.diagnostic(`port ${port} reused by another process meanwhile: ${named.join('; ')}`);
}

const exited = (p: ChildProcess): Promise<void> => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

test('deploy/mailgate.service is a valid, hardened unit (systemd-analyze verify)', (t) => {
  const text = readFileSync(UNIT, 'utf8');
  for (const want of ['User=mailgate', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/mailgate', 'NoNewPrivileges=yes', 'Restart=on-failure', 'LimitNOFILE=65536', 'PrivateTmp=yes', 'ProtectHome=yes', 'ExecReload=/bin/kill -HUP $MAINPID']) {
    assert.ok(text.split('\n').includes(want), `unit has ${want}`);
  }
  assert.match(unitValue('ExecStart'), /--data \/var\/lib\/mailgate serve$/);
  if (!needs(t, 'systemd-analyze', ['--version'])) return;
  // verify checks that ExecStart's program exists: point it at this node for the check.
  const dir = tempDir('mailgate-unit-');
  try {
    const copy = join(dir, 'mailgate.service');
    writeFileSync(copy, text.replace('/usr/local/bin/mailgate', process.execPath));
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
  } finally {
    removeDir(dir);
  }
});

test("the unit's ExecStart, started as systemd starts it, stops whole on SIGTERM to its PID", async (t) => {
  const { dir, ports } = await dataDir();
  // The unit's command line, with the installed `mailgate` replaced by this checkout's CLI.
  const line = unitValue('ExecStart').replace('/usr/local/bin/mailgate', `${process.execPath} --import tsx ${MAIN}`).replace('/var/lib/mailgate', dir);
  // The parent shell execs the line (systemd forks and execs): its PID is the gateway's.
  const parent = spawn('sh', ['-c', `exec ${line}`], { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const log = collect(parent);
  const ours: number[] = [];
  try {
    for (const p of ports) await waitForPort(p, READY_MS);
    await new Promise((r) => setTimeout(r, 300)); // workers all forked
    ours.push(parent.pid as number, ...descendants(parent.pid as number));
    assert.ok(ours.length >= 2, `a primary and its receive workers: ${ours.join(', ')}`);
    process.kill(parent.pid as number, 'SIGTERM');
    await exited(parent);
    assert.equal(parent.exitCode, 0, log());
    assert.deepEqual(await waitGone(ours, 15_000), [], 'no process of the gateway left');
    for (const p of ports) await noListenerOf(t, p, ours, dir);
  } finally {
    // Also when the gateway never came up: the parent and whatever it started.
    const pid = parent.pid as number;
    killAll([...ours, pid, ...descendants(pid)].filter(alive));
    removeDir(dir);
  }
});

test('receive workers stop on their own when their primary is killed (no orphan listener)', async (t) => {
  const { dir, ports } = await dataDir();
  const gw = await startGateway(dir, ports, { workers: 2, readyMs: READY_MS });
  const primary = gw.proc.pid as number;
  await new Promise((r) => setTimeout(r, 300));
  const workers = descendants(primary);
  try {
    assert.ok(workers.length >= 2, `two workers: ${workers.join(', ')}`);
    process.kill(primary, 'SIGKILL');
    assert.deepEqual(await waitGone(workers, 15_000), [], 'every worker gone');
    for (const p of ports) await noListenerOf(t, p, [primary, ...workers], dir);
  } finally {
    killAll(workers.filter(alive));
    await gw.stop();
    removeDir(dir);
  }
});

test('SIGHUP reloads the configuration in the primary and every worker and stops nothing', async () => {
  const { dir, ports } = await dataDir();
  const gw = await startGateway(dir, ports, { workers: 2, readyMs: READY_MS });
  try {
    assert.equal(cli(dir, ['org', 'set', '--name', 'Reloaded Org']).code, 0);
    process.kill(gw.proc.pid as number, 'SIGHUP');
    const until = Date.now() + 10_000;
    const reloads = (): number => gw.log().split('\n').filter((l) => l.includes('configuration reloaded (SIGHUP)')).length;
    while (reloads() < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.equal(reloads(), 3, `primary and two workers reloaded:\n${gw.log().slice(-3000)}`);
    assert.equal(gw.proc.exitCode, null, 'still running');
    assert.equal(gw.proc.signalCode, null, 'not killed by the signal');
    for (const p of ports) assert.equal(await accepts(p), true, `still listening on ${p}`);
  } finally {
    await gw.stop();
    removeDir(dir);
  }
});

test('npm start stops the gateway and its workers on SIGTERM to the npm process', { timeout: 600_000 }, async (t) => {
  if (!needs(t, 'npm', ['--version'])) return;
  const { dir, ports } = await dataDir();
  const npm = spawn('npm', ['start', '--', '--data', dir, '--workers', '2'], { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const log = collect(npm);
  const ours: number[] = [];
  try {
    for (const p of ports) await waitForPort(p, 480_000); // npm start builds dist/ first
    await new Promise((r) => setTimeout(r, 300));
    ours.push(...descendants(npm.pid as number));
    assert.ok(ours.length >= 3, `the gateway and its workers under npm: ${ours.join(', ')}`);
    process.kill(npm.pid as number, 'SIGTERM');
    assert.deepEqual(await waitGone(ours, 15_000), [], `no process of the gateway left:\n${log().slice(-3000)}`);
    for (const p of ports) await noListenerOf(t, p, ours, dir);
    await exited(npm);
  } finally {
    killAll([...ours, ...descendants(npm.pid as number), npm.pid as number].filter(alive));
    removeDir(dir);
  }
});

test('npm pack builds dist/ into the tarball; its `mailgate` bin runs from PATH and prints the version', { timeout: 600_000 }, async (t) => {
  if (!needs(t, 'npm', ['--version'])) return;
  const dir = tempDir('mailgate-pack-');
  try {
    // prepack builds dist/ (a global install from the tarball gets a built CLI).
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', timeout: 540_000 });
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string; mode: number }> }>;
    assert.ok(info);
    const paths = info.files.map((f) => f.path);
    for (const want of ['dist/cli/main.js', 'dist/daemon/serve.js', 'mailgate.example.yaml', 'deploy/mailgate.service', 'package.json']) assert.ok(paths.includes(want), `tarball has ${want}`);
    assert.ok(!paths.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.endsWith('.map')), 'no sources, tests or source maps');
    const x = spawnSync('tar', ['xzf', join(dir, info.filename), '-C', dir]);
    assert.equal(x.status, 0);
    const pkg = join(dir, 'package');
    const main = join(pkg, 'dist', 'cli', 'main.js');
    assert.match(readFileSync(main, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    // What `npm install -g` does with the bin entry (its dependencies: this checkout's, linked).
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    mkdirSync(join(dir, 'bin'));
    chmodSync(main, 0o755);
    symlinkSync(main, join(dir, 'bin', 'mailgate'));
    const env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` };
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = spawnSync('mailgate', ['--version'], { env, encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, `${version.version}\n`);
    // The installed CLI runs a command with the example configuration the tarball carries.
    const check = spawnSync('mailgate', ['config', 'validate', '-f', join(pkg, 'mailgate.example.yaml')], { env, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /mailgate\.example\.yaml: OK/);
  } finally {
    removeDir(dir);
  }
});
