/**
 * @module test/helpers/netns
 * A three-namespace network for the egress enforcement tests, made with iproute2 (root only):
 * `lan` (a client address and the relay's address, IPv4 and IPv6) ─veth─ `rtr` (forwarding on;
 * the firewall under test is applied here) ─veth─ `inet` (an "internet" server). Every address
 * is from the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32) and exists only
 * inside these namespaces; the veth pairs are created inside them, so nothing touches the host's
 * interfaces and no packet leaves. `destroy()` kills the processes started inside (by PID) and
 * deletes the namespaces; call it in a `finally`.
 * Touches: network namespaces mg-{lan,rtr,inet}-<pid>; child processes inside them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const NET = {
  client4: '192.0.2.20',
  relay4: '192.0.2.10',
  router4: '192.0.2.1',
  routerOut4: '198.51.100.1',
  server4: '198.51.100.25',
  client6: '2001:db8:1::20',
  relay6: '2001:db8:1::10',
  router6: '2001:db8:1::1',
  routerOut6: '2001:db8:2::1',
  server6: '2001:db8:2::25',
} as const;

export interface ProbeResult {
  local: string;
  remote: string;
  port: number;
  result: 'open' | 'refused' | 'timeout' | 'error';
  code?: string;
}

/** Why the namespace tests cannot run here, or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_SYS_ADMIN)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) not installed';
  return undefined;
}

function run(args: string[], input?: string): string {
  const r = spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8', input, timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}${r.error ? String(r.error) : ''}`);
  return r.stdout;
}

const LISTENER = `
const net = require('node:net');
const ports = JSON.parse(process.argv[1]);
let n = 0;
for (const p of ports) net.createServer((s) => { s.on('error', () => {}); s.end('220 test\\r\\n'); }).listen({ port: p, host: '::', ipv6Only: false }, () => { if (++n === ports.length) process.stdout.write('ready\\n'); });
setTimeout(() => process.exit(0), 120000);
`;

const PROBE = `
const net = require('node:net');
const { probes, timeoutMs } = JSON.parse(process.argv[1]);
Promise.all(probes.map((p) => new Promise((resolve) => {
  const s = net.connect({ host: p.remote, port: p.port, localAddress: p.local });
  const done = (result, code) => { clearTimeout(t); s.destroy(); resolve({ ...p, result, code }); };
  const t = setTimeout(() => done('timeout'), timeoutMs);
  s.once('connect', () => done('open'));
  s.once('error', (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error', e.code));
}))).then((r) => process.stdout.write(JSON.stringify(r)));
`;

export class TestNetwork {
  readonly lan: string;
  readonly rtr: string;
  readonly inet: string;
  private readonly children: ChildProcess[] = [];

  constructor(tag = String(process.pid)) {
    this.lan = `mg-lan-${tag}`;
    this.rtr = `mg-rtr-${tag}`;
    this.inet = `mg-inet-${tag}`;
  }

  /** Create the namespaces, links, addresses and routes. */
  create(): void {
    for (const ns of [this.lan, this.rtr, this.inet]) {
      run(['ip', 'netns', 'add', ns]);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    run(['ip', '-n', this.lan, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'rl0', 'netns', this.rtr]);
    run(['ip', '-n', this.inet, 'link', 'add', 'inet0', 'type', 'veth', 'peer', 'name', 'ri0', 'netns', this.rtr]);
    const addr = (ns: string, dev: string, list: string[]): void => {
      for (const a of list) run(['ip', '-n', ns, 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : [])]);
      run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    };
    // The client address first: it is the primary one, so unbound IPv4 connects use it.
    addr(this.lan, 'lan0', [`${NET.client4}/24`, `${NET.relay4}/24`, `${NET.client6}/64`, `${NET.relay6}/64`]);
    addr(this.rtr, 'rl0', [`${NET.router4}/24`, `${NET.router6}/64`]);
    addr(this.rtr, 'ri0', [`${NET.routerOut4}/24`, `${NET.routerOut6}/64`]);
    addr(this.inet, 'inet0', [`${NET.server4}/24`, `${NET.server6}/64`]);
    run(['ip', '-n', this.lan, 'route', 'add', 'default', 'via', NET.router4]);
    run(['ip', '-n', this.lan, '-6', 'route', 'add', 'default', 'via', NET.router6]);
    run(['ip', '-n', this.inet, 'route', 'add', 'default', 'via', NET.routerOut4]);
    run(['ip', '-n', this.inet, '-6', 'route', 'add', 'default', 'via', NET.routerOut6]);
    run(['ip', 'netns', 'exec', this.rtr, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  }

  /** Run a command inside a namespace; throws with its stderr on failure. */
  exec(ns: string, args: string[], input?: string): string {
    return run(['ip', 'netns', 'exec', ns, ...args], input);
  }

  /** Start TCP listeners (IPv4 and IPv6) on `ports` in the inet namespace; resolves when all listen. */
  async listen(ports: number[]): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.inet, process.execPath, '-e', LISTENER, JSON.stringify(ports)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('listeners not ready within 15 s')), 15_000);
      let err = '';
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) clearTimeout(t), resolve();
      });
      child.once('exit', (code) => (clearTimeout(t), reject(new Error(`listener exited (${code}): ${err}`))));
    });
  }

  /** TCP connects from the lan namespace, each from a given local address, all at once. */
  probe(probes: { local: string; remote: string; port: number }[], timeoutMs = 3000): ProbeResult[] {
    const r = spawnSync('ip', ['netns', 'exec', this.lan, process.execPath, '-e', PROBE, JSON.stringify({ probes, timeoutMs })], { encoding: 'utf8', timeout: timeoutMs + 15_000 });
    if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ProbeResult[];
  }

  /** Kill the processes started inside (by PID) and delete the namespaces; never throws. */
  destroy(): void {
    for (const c of this.children) if (c.pid !== undefined && c.exitCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const ns of [this.lan, this.rtr, this.inet]) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  }
}
