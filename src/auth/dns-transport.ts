/**
 * @module auth/dns-transport
 * Sends one encoded DNS query to upstream servers and returns the raw response: UDP first on a
 * connected socket (so an ICMP port-unreachable surfaces as ECONNREFUSED instead of a silent wait),
 * TCP when the UDP answer is truncated. Every attempt is bounded by `timeoutMs`; servers are tried
 * in order, `tries` rounds over the list. Responses are matched on id and question (RFC 5452).
 * Touches: the network (UDP/TCP sockets to the configured DNS servers only).
 * RFCs: 1035 §4.2 (UDP and TCP transport, 2-byte length prefix), 7766 (TCP fallback on TC),
 * 5452 (id and question matching).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { dnsError } from './dns-wire.ts';

export interface Upstream {
  host: string;
  port: number;
}

export interface ExchangeOptions {
  servers: readonly Upstream[];
  timeoutMs: number;
  tries: number;
}

/** Checks a raw response belongs to our query (same id, QR bit, same question section bytes). */
function matches(query: Buffer, resp: Buffer): boolean {
  if (resp.length < 12 || resp.readUInt16BE(0) !== query.readUInt16BE(0)) return false;
  if ((resp.readUInt8(2) & 0x80) === 0) return false;
  // question = bytes after the header up to the end of QTYPE/QCLASS; compare case-insensitively
  let end = 12;
  while (end < query.length && query[end] !== 0) end += (query[end] ?? 0) + 1;
  end += 5;
  if (resp.length < end) return resp.readUInt16BE(4) === 0; // some servers omit the question on errors
  return query.subarray(12, end).toString('latin1').toLowerCase() === resp.subarray(12, end).toString('latin1').toLowerCase();
}

/** Parses 'ip', 'ip:port', '[v6]', '[v6]:port' (the forms `dns.getServers()` returns). */
export function parseServer(spec: string): Upstream {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracket) return { host: bracket[1] ?? '', port: bracket[2] ? Number(bracket[2]) : 53 };
  if (net.isIP(spec)) return { host: spec, port: 53 };
  const m = /^(.+):(\d+)$/.exec(spec);
  if (m && net.isIPv4(m[1] ?? '')) return { host: m[1] ?? '', port: Number(m[2]) };
  throw new Error(`invalid DNS server address: ${spec}`);
}

function udpExchange(server: Upstream, query: Buffer, timeoutMs: number, name: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | null, resp?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(resp as Buffer);
    };
    const timer = setTimeout(() => finish(dnsError('ETIMEOUT', name, `DNS query for ${name} timed out`)), timeoutMs);
    sock.on('error', (e: NodeJS.ErrnoException) => finish(dnsError(e.code ?? 'ECONNREFUSED', name, e.message)));
    sock.on('message', (msg) => {
      if (matches(query, msg)) finish(null, msg);
    });
    sock.connect(server.port, server.host, () => {
      sock.send(query, (e) => {
        if (e) finish(dnsError((e as NodeJS.ErrnoException).code ?? 'ECONNREFUSED', name, e.message));
      });
    });
  });
}

function tcpExchange(server: Upstream, query: Buffer, timeoutMs: number, name: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | null, resp?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(resp as Buffer);
    };
    const timer = setTimeout(() => finish(dnsError('ETIMEOUT', name, `DNS query for ${name} timed out (TCP)`)), timeoutMs);
    sock.on('error', (e: NodeJS.ErrnoException) => finish(dnsError(e.code ?? 'ECONNREFUSED', name, e.message)));
    sock.on('close', () => finish(dnsError('ECONNREFUSED', name, 'DNS TCP connection closed before an answer')));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      const msg = buf.subarray(2, 2 + len);
      if (matches(query, msg)) finish(null, msg);
      else finish(dnsError('EBADRESP', name, 'mismatched DNS response over TCP'));
    });
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length, 0);
      sock.write(Buffer.concat([len, query]));
    });
  });
}

/**
 * Exchanges `query` with the first server that answers. A timeout from every attempt throws
 * ETIMEOUT; otherwise the last non-timeout error is thrown (e.g. ECONNREFUSED when nothing listens).
 */
export async function exchange(query: Buffer, name: string, opts: ExchangeOptions): Promise<Buffer> {
  let lastError: Error | undefined;
  for (let round = 0; round < Math.max(1, opts.tries); round++) {
    for (const server of opts.servers) {
      try {
        const resp = await udpExchange(server, query, opts.timeoutMs, name);
        if ((resp.readUInt8(2) & 0x02) === 0) return resp;
        return await tcpExchange(server, query, opts.timeoutMs, name);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'ETIMEOUT' || !lastError) lastError = err as Error;
      }
    }
  }
  throw lastError ?? dnsError('ETIMEOUT', name);
}
