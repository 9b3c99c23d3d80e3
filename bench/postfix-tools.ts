/**
 * @module bench/postfix-tools
 * Postfix's load tools as run.sh uses them, driven from TypeScript: an `smtp-sink -c` next hop
 * whose running `mesg=` counter is the delivered count, and bounded `smtp-source` runs (one new
 * connection per message, the harness's FROM, RCPT, HELO and 2,000-byte payload).
 * Touches: the processes it starts (stopped by their PID), loopback ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export const FROM = 'sender@bench.invalid';
export const RCPT = 'user@example.com';
export const HELO = 'client.bench.invalid';

/** True when both tools are on the PATH (Debian's `postfix` package). */
export function haveTools(): boolean {
  return ['smtp-source', 'smtp-sink'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
}

export interface CountingSink {
  pid: number;
  port: number;
  /** Messages the sink has taken since it started. */
  count(): number;
  stop(): Promise<void>;
}

/** `smtp-sink -c` on 127.0.0.1:port (dropping to nobody when started as root, as run.sh does). */
export async function startCountingSink(port: number): Promise<CountingSink> {
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const proc = spawn('smtp-sink', [...user, '-c', '-C', `127.0.0.1:${port}`, '2048'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let counted = 0;
  let err = '';
  proc.stdout.setEncoding('latin1').on('data', (d: string) => {
    // Counters are rewritten in place ("\r"); a number split across chunks is read again whole.
    tail = (tail + d).slice(-256);
    for (const m of tail.matchAll(/mesg=(\d+)/g)) counted = Math.max(counted, Number(m[1]));
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  await waitListening(port, 10_000, proc).catch((e: Error) => {
    throw new Error(`${e.message}: ${err}`);
  });
  return {
    pid: proc.pid ?? -1,
    port,
    count: () => counted,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitListening(port: number, ms: number, proc: ChildProcess): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`smtp-sink exited (${proc.exitCode})`);
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`smtp-sink not listening on ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SourceRun {
  /** Exit code (non-zero: a failure, or killed at the time bound). */
  code: number;
  /** From spawn to exit. */
  seconds: number;
  /** The end of smtp-source's output (its errors), for the report. */
  errors: string;
}

/** One `smtp-source -s sessions -m messages` run against 127.0.0.1:port, killed after timeoutMs. */
export function runSource(port: number, sessions: number, messages: number, bytes: number, timeoutMs: number): Promise<SourceRun> {
  const args = ['-s', String(sessions), '-m', String(messages), '-l', String(bytes), '-f', FROM, '-t', RCPT, '-M', HELO, `127.0.0.1:${port}`];
  return new Promise((resolve) => {
    const t0 = performance.now();
    const proc = spawn('smtp-source', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let errors = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (errors = (errors + d).slice(-1000)));
    proc.once('close', (code, signal) => resolve({ code: code ?? (signal ? 124 : -1), seconds: (performance.now() - t0) / 1000, errors: errors.trim() }));
  });
}
