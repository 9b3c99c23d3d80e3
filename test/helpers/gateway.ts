/**
 * @module test/helpers/gateway
 * Starts a real `mailgate serve` process (the CLI entry through tsx) on loopback ports, with a
 * data dir and config prepared by the test, and stops it by its own PID (SIGTERM, or SIGKILL
 * for crash tests). Also runs one-shot CLI commands as child processes.
 * Touches: a temp data dir, loopback ports, child processes it started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase } from '../../src/core/sqlite.ts';
import { loadExampleConfig, validateConfig } from '../../src/config/index.ts';
import { SqliteConfigStore } from '../../src/stores/sqlite/config-store.ts';
import type { Config, ConfigInput } from '../../src/config/schema.ts';
import { startSink, type Sink } from './sink.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(p));
    });
  });
}

export function tempDir(prefix = 'mailgate-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write a config version into the data dir's store (as `config apply` would). */
export function applyConfig(dataDir: string, cfg: ConfigInput, comment = 'test'): number {
  const db = openDatabase(join(dataDir, 'mailgate.db'));
  try {
    const store = new SqliteConfigStore(db);
    // Many gateways run at once in the suite: none takes the admin listener's default port unless
    // the test asks for one.
    const full: Config = validateConfig({ admin: { enabled: false }, ...cfg });
    return store.saveNow(full, 'test', comment);
  } finally {
    db.close();
  }
}

/** The example config with test ports and overrides. */
export function baseConfig(ports: { mx: number; submission: number; admin?: number }, over: Partial<ConfigInput> = {}): ConfigInput {
  const ex = loadExampleConfig();
  return {
    ...ex,
    receiveConnectors: ex.receiveConnectors.map((l) => ({ ...l, port: l.role === 'submission' ? ports.submission : ports.mx })),
    admin: ports.admin !== undefined ? { enabled: true, bind: `127.0.0.1:${ports.admin}` } : { enabled: false },
    ...over,
  };
}

/** The example config's mx listener (every test config built on baseConfig has one). */
export function mxListenerOf(cfg: ConfigInput): NonNullable<ConfigInput['receiveConnectors']>[number] {
  const mx = cfg.receiveConnectors?.find((l) => l.role === 'mx');
  if (!mx) throw new Error('the base config has no mx listener');
  return mx;
}

/** The one route of most tests: every domain relayed in plain SMTP to a next hop on 127.0.0.1. */
export function nextHopRoute(port: number): NonNullable<ConfigInput['routes']>[number] {
  return { name: 'next-hop', domains: ['*'], type: 'smtp', host: '127.0.0.1', port, tls: 'none' };
}

/** Wait until a TCP port accepts connections. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} not listening after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Gateway {
  proc: ChildProcess;
  dataDir: string;
  log(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

/** Start `mailgate serve` and wait for the given ports. */
export async function startGateway(
  dataDir: string,
  ports: number[],
  opts: {
    workers?: number;
    env?: Record<string, string>;
    /** A command that execs the gateway (e.g. prlimit --nofile=…). */
    prefix?: string[];
    /** How long each port may take to open (default 120 s: a bound for a busy machine). */
    readyTimeoutMs?: number;
    /** The same, the name the service and backup tests use. */
    readyMs?: number;
    /** More `serve` arguments (`--node`, `--listen`). */
    args?: string[];
  } = {},
): Promise<Gateway> {
  let out = '';
  const argv = [process.execPath, '--import', 'tsx', MAIN, '--data', dataDir, 'serve', '--workers', String(opts.workers ?? 1), ...(opts.args ?? [])];
  const [cmd = process.execPath, ...args] = [...(opts.prefix ?? []), ...argv];
  const proc = spawn(cmd, args, {
    cwd: ROOT,
    // DNS stays on loopback: a closed port answers every lookup at once (temperror) unless a test
    // passes its own loopback DNS server.
    env: { ...process.env, MAILGATE_LOG_LEVEL: 'info', MAILGATE_DNS_SERVERS: '127.0.0.1:1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  // A gateway that exits before its ports open (a bind refused) fails the start at once.
  const died = exited.then(() => Promise.reject(new Error(`the gateway exited (${proc.exitCode ?? proc.signalCode}) before listening`)));
  died.catch(() => undefined);
  try {
    // A bound for a loaded machine (a restart replays journals; workers compile under tsx), not a timing assertion.
    for (const p of ports) await Promise.race([waitForPort(p, opts.readyTimeoutMs ?? opts.readyMs ?? 120_000), died]);
  } catch (e) {
    // The whole process group: receive workers forked before the ports opened go too.
    if (proc.pid !== undefined) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await exited;
    throw new Error(`${(e as Error).message}\n--- gateway output ---\n${out}`);
  }
  const signalGroup = (sig: NodeJS.Signals): void => {
    // The process group is ours: the gateway and its cluster workers, nothing else.
    if (proc.pid !== undefined && proc.exitCode === null) {
      try {
        process.kill(-proc.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  return {
    proc,
    dataDir,
    log: () => out,
    async stop() {
      signalGroup('SIGTERM');
      const t = setTimeout(() => signalGroup('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
    async kill9() {
      signalGroup('SIGKILL');
      await exited;
    },
  };
}

export interface MxGateway {
  dir: string;
  port: number;
  sink: Sink;
  gw: Gateway;
  /** Stop the gateway and the sink, remove the data dir. */
  stop(): Promise<void>;
}

/**
 * A gateway with one listener (the base config's mx listener on a fresh port, `mx` over it)
 * relaying everything to a fresh sink; `extra` goes over the rest of the base config.
 */
export async function startMxGateway(
  mx: Partial<NonNullable<ConfigInput['receiveConnectors']>[number]>,
  extra: Partial<ConfigInput> = {},
): Promise<MxGateway> {
  const dir = tempDir();
  const sink = await startSink();
  try {
    const port = await freePort();
    const base = baseConfig({ mx: port, submission: port });
    applyConfig(dir, { ...base, receiveConnectors: [{ ...mxListenerOf(base), port, ...mx }], routes: [nextHopRoute(sink.port)], ...extra });
    const gw = await startGateway(dir, [port]);
    return {
      dir,
      port,
      sink,
      gw,
      async stop() {
        await gw.stop();
        await sink.close();
        removeDir(dir);
      },
    };
  } catch (err) {
    await sink.close();
    removeDir(dir);
    throw err;
  }
}

/** Run the CLI once; returns exit code and output. */
export function cli(dataDir: string, args: string[], input?: string, env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--data', dataDir, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, MAILGATE_LOG_LEVEL: 'silent', MAILGATE_DNS_SERVERS: '127.0.0.1:1', ...env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Run the CLI once without blocking this process's event loop (needed when the CLI talks to a
 * server living in the test process, e.g. the loopback DNS server: spawnSync would deadlock it).
 */
export function cliAsync(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const p = spawn(process.execPath, ['--import', 'tsx', MAIN, '--data', dataDir, ...args], {
      cwd: ROOT,
      env: { ...process.env, MAILGATE_LOG_LEVEL: 'silent', MAILGATE_DNS_SERVERS: '127.0.0.1:1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.once('close', (code) => {
      clearTimeout(t);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Ports of one fleet node started by startFleetNode. */
export interface FleetNodePorts {
  mx: number;
  submission: number;
  admin: number;
}

/**
 * `mailgate serve --node NAME` on fresh loopback ports for its mx, submission and admin listeners,
 * waiting for all three. A port picked free can be taken before the node binds it (another test's
 * outgoing connection gets it as its local port): such a start is tried again on new ports.
 */
export async function startFleetNode(dir: string, name: string, opts: { env?: Record<string, string> } = {}): Promise<FleetNodePorts & { gw: Gateway }> {
  for (let attempt = 1; ; attempt++) {
    const ports = { mx: await freePort(), submission: await freePort(), admin: await freePort() };
    try {
      const gw = await startGateway(dir, [ports.mx, ports.submission, ports.admin], {
        ...(opts.env ? { env: opts.env } : {}),
        args: ['--node', name, '--listen', `mx=127.0.0.1:${ports.mx}`, '--listen', `submission=127.0.0.1:${ports.submission}`, '--listen', `admin=127.0.0.1:${ports.admin}`],
      });
      return { ...ports, gw };
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE|address already in use/.test((e as Error).message)) throw e;
    }
  }
}
