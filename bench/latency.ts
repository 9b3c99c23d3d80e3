/**
 * @module bench/latency
 * Per-message latency over ONE client (smtp-source cannot report it), one new connection per
 * message as smtp-source does by default: time from connect() to the 250 after the final ".",
 * through banner, EHLO, MAIL, RCPT, DATA and the body, no pipelining; QUIT is sent outside the
 * timed window. Bounded by the message count and a per-reply timeout. Prints one CSV row:
 *   target,round,messages,ok,p50_ms,p90_ms,p99_ms,max_ms,mean_ms,wall_s
 * With --phases it also prints (stderr) the p50 and p99 of each step: connect → banner, EHLO, MAIL,
 * RCPT, DATA → 354, body → 250.
 * usage: node --import tsx bench/latency.ts --port P -n 2000 [--bytes 2000] [--target NAME] [--round R] [--phases]
 * Touches: TCP connections to 127.0.0.1:P.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';

/** Reads SMTP replies (possibly multi-line) from a socket, one at a time. */
class ReplyReader {
  private buf = '';
  private waiters: Array<(line: string) => void> = [];
  private lines: string[] = [];

  constructor(sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i + 1);
        this.buf = this.buf.slice(i + 1);
        if (/^\d{3} /.test(line)) this.push(line.trimEnd()); // the last line of a reply
      }
    });
  }

  private push(line: string): void {
    const w = this.waiters.shift();
    if (w) w(line);
    else this.lines.push(line);
  }

  next(timeoutMs: number): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('reply timeout')), timeoutMs);
      this.waiters.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
    });
  }
}

function body(bytes: number, i: number, from: string, to: string): string {
  const head = `From: <${from}>\r\nTo: <${to}>\r\nSubject: latency ${i}\r\nMessage-ID: <lat.${i}.${Date.now()}@bench.invalid>\r\n\r\n`;
  const line = 'x'.repeat(78) + '\r\n';
  return head + line.repeat(Math.max(1, Math.floor(bytes / line.length))) + '.\r\n';
}

async function expect(r: ReplyReader, code: string, timeoutMs: number): Promise<void> {
  const line = await r.next(timeoutMs);
  if (!line.startsWith(code)) throw new Error(`expected ${code}, got: ${line}`);
}

const PHASES = ['banner', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'dot'] as const;

/** One message on a new connection; resolves with the timed part in ms (and each step's in `steps`). */
async function oneMessage(port: number, msg: string, from: string, to: string, timeoutMs: number, steps?: number[][]): Promise<number> {
  const t0 = process.hrtime.bigint();
  let last = t0;
  const step = (k: number): void => {
    const now = process.hrtime.bigint();
    steps?.[k]?.push(Number(now - last) / 1e6);
    last = now;
  };
  const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
  const r = new ReplyReader(sock);
  const failed = new Promise<never>((_, reject) => sock.once('error', reject));
  const talk = async (): Promise<number> => {
    await expect(r, '220', timeoutMs);
    step(0);
    sock.write('EHLO client.bench.invalid\r\n');
    await expect(r, '250', timeoutMs);
    step(1);
    sock.write(`MAIL FROM:<${from}>\r\n`);
    await expect(r, '250', timeoutMs);
    step(2);
    sock.write(`RCPT TO:<${to}>\r\n`);
    await expect(r, '250', timeoutMs);
    step(3);
    sock.write('DATA\r\n');
    await expect(r, '354', timeoutMs);
    step(4);
    sock.write(msg);
    await expect(r, '250', timeoutMs);
    step(5);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    sock.end('QUIT\r\n');
    return ms;
  };
  try {
    return await Promise.race([talk(), failed]);
  } finally {
    sock.once('close', () => undefined);
    setTimeout(() => sock.destroy(), 1000).unref();
  }
}

function pct(sorted: number[], p: number): number {
  const k = Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * sorted.length + 0.5) - 1));
  return sorted[k] ?? NaN;
}

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      port: { type: 'string' },
      n: { type: 'string', short: 'n', default: '2000' },
      bytes: { type: 'string', default: '2000' },
      from: { type: 'string', default: 'sender@bench.invalid' },
      to: { type: 'string', default: 'user@example.com' },
      target: { type: 'string', default: '?' },
      round: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '30000' },
      phases: { type: 'boolean', default: false },
    },
  });
  const steps: number[][] | undefined = a.phases ? PHASES.map(() => []) : undefined;
  const port = Number(a.port);
  const n = Number(a.n);
  const lat: number[] = [];
  let errors = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    try {
      lat.push(await oneMessage(port, body(Number(a.bytes), i, a.from, a.to), a.from, a.to, Number(a.timeout), steps));
    } catch (err) {
      errors++;
      console.error(`${a.target} msg ${i}: ${(err as Error).message}`);
      if (errors > 20) break; // bounded: a broken target does not take n × timeout
    }
  }
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const s = [...lat].sort((x, y) => x - y);
  const mean = s.reduce((x, y) => x + y, 0) / Math.max(1, s.length);
  const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '');
  console.log([a.target, a.round, n, s.length, f(pct(s, 50)), f(pct(s, 90)), f(pct(s, 99)), f(s[s.length - 1] ?? NaN), f(mean), wall.toFixed(3)].join(','));
  if (steps) {
    const row = (p: number): string => PHASES.map((name, k) => `${name} ${f(pct([...(steps[k] ?? [])].sort((x, y) => x - y), p))}`).join(', ');
    console.error(`${a.target} per step p50 ms: ${row(50)}`);
    console.error(`${a.target} per step p99 ms: ${row(99)}`);
  }
  return errors === 0 ? 0 : 2;
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
