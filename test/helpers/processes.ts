/**
 * @module test/helpers/processes
 * Process-tree checks for the service tests: the descendants of a PID (read from /proc), whether
 * a PID is alive, and waiting until a set of PIDs is gone; a port that no longer accepts.
 * Touches: reads /proc; loopback connections.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/** Parent PID of `pid` from /proc/<pid>/stat, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; ppid follows the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, their children, …). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Wait until none of `pids` is alive; returns those still alive after `ms`. */
export async function waitGone(pids: readonly number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when something accepts connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** A TCP socket of /proc/net/tcp{,6}: local and remote ports, state (0A is LISTEN) and inode. */
export interface ProcTcpSocket {
  localPort: number;
  remotePort: number;
  state: string;
  inode: string;
}

/** Every TCP socket of this network namespace (IPv4 and IPv6), from /proc/net/tcp{,6}. */
export function tcpSockets(): ProcTcpSocket[] {
  const out: ProcTcpSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st … inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = (field: string | undefined): number => Number.parseInt(field?.split(':')[1] ?? '', 16);
      out.push({ localPort: port(f[1]), remotePort: port(f[2]), state: f[3] as string, inode: f[9] as string });
    }
  }
  return out;
}

/** The `socket:[inode]` links among `pid`'s open files (none when it is gone or unreadable). */
export function socketLinks(pid: number | string): string[] {
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const fd of fds) {
    try {
      const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (l.startsWith('socket:[')) out.push(l);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/**
 * The processes holding a listening socket on `port`: PIDs with the socket open, or -1 for a
 * listener whose owner cannot be read. A connect() is no proof of a listener here (another test's
 * server may have been handed the port the moment it was freed): this names who listens.
 */
export function listenerOwners(port: number): number[] {
  const inodes = new Set(tcpSockets().filter((t) => t.state === '0A' && t.localPort === port).map((t) => `socket:[${t.inode}]`));
  if (inodes.size === 0) return [];
  const owners = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (socketLinks(name).some((l) => inodes.has(l))) owners.add(Number(name));
  }
  return owners.size > 0 ? [...owners] : [-1];
}

/** The command line of `pid`, for a failure message. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '(gone)';
  }
}

/** SIGKILL every PID still alive (cleanup after a failed assertion; only PIDs the test started). */
export function killAll(pids: readonly number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
