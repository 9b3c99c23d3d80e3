/**
 * @module test/helpers/dns-server
 * An in-process authoritative DNS server for tests (dns2 3.0.0), on 127.0.0.1, UDP and TCP on the
 * same port, serving fixture zones given as a plain object. Behaves like a real authoritative
 * server where our resolver's logic depends on it: NXDOMAIN (name not present, no descendants)
 * vs NODATA (NOERROR, empty answer, SOA in authority with a MINIMUM), CNAME chains followed inside
 * the fixtures, TXT strings longer than 255 bytes split into several character-strings, per-record
 * TTLs, UDP answers over the client's EDNS size truncated (TC) so the client retries over TCP.
 * `silent` makes it drop every query; a name with `TIMEOUT: true` drops queries for types it has
 * no records of (the RFC 7208 suite's TIMEOUT). Every query is logged with its transport.
 * Touches: 127.0.0.1 sockets only.
 * RFCs: 1035 (messages), 2308 (negative answers carry the SOA), 7766 (TCP).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dns2 from 'dns2';

const { Packet } = dns2;

type Ttl = { ttl?: number };
export type TxtValue = string | string[] | ({ value: string | string[] } & Ttl);
export type AddrValue = string | ({ address: string } & Ttl);
export type MxValue = ({ exchange: string; priority: number } & Ttl) | [number, string];
export type NameValue = string | ({ value: string } & Ttl);

export interface NameRecords {
  A?: AddrValue[];
  AAAA?: AddrValue[];
  TXT?: TxtValue[];
  MX?: MxValue[];
  PTR?: NameValue[];
  NS?: NameValue[];
  CNAME?: NameValue;
  /** Drop (never answer) queries for types this name has no records of. */
  TIMEOUT?: boolean;
  /** Default TTL for this name's records. */
  ttl?: number;
}

/** Owner name (no trailing dot) → records. */
export type Zones = Record<string, NameRecords>;

export interface LoggedQuery {
  name: string;
  type: string;
  proto: 'udp' | 'tcp';
}

export interface DnsServerOptions {
  /** Default record TTL (seconds), default 300. */
  defaultTtl?: number;
  /** SOA MINIMUM and SOA TTL for negative answers, default 60. */
  soaMinimum?: number;
}

export interface TestDnsServer {
  port: number;
  /** '127.0.0.1:PORT', ready for createResolver({ servers: [...] }). */
  address: string;
  queries: LoggedQuery[];
  /** Queries seen for (name, type); type omitted = any type. */
  count(name: string, type?: string): number;
  resetLog(): void;
  setZones(zones: Zones): void;
  /** When true, no query is answered. */
  silent: boolean;
  stop(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 99: 'SPF' };

const norm = (name: string): string => name.toLowerCase().replace(/\.$/, '');

function txtChunks(value: string | string[]): Buffer[] {
  if (Array.isArray(value)) return value.map(toBytes);
  const bytes = toBytes(value);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) chunks.push(bytes.subarray(i, i + 255));
  return chunks.length ? chunks : [Buffer.alloc(0)];
}

/** Latin-1 when every code point fits a byte (so '\xEF' in fixtures is the byte 0xEF), else UTF-8. */
function toBytes(s: string): Buffer {
  return /^[\u0000-\u00ff]*$/.test(s) ? Buffer.from(s, 'latin1') : Buffer.from(s, 'utf8');
}

function soaFor(name: string, minimum: number): Record<string, unknown> {
  const apex = name.split('.').slice(-2).join('.') || name;
  return {
    name: apex,
    type: Packet.TYPE.SOA,
    class: Packet.CLASS.IN,
    ttl: minimum,
    primary: `ns.${apex}`,
    admin: `hostmaster.${apex}`,
    serial: 1,
    refresh: 3600,
    retry: 600,
    expiration: 86400,
    minimum,
  };
}

function recordsOf(rec: NameRecords, name: string, type: string, defTtl: number): Record<string, unknown>[] {
  const base = (ttl?: number): Record<string, unknown> => ({ name, class: Packet.CLASS.IN, ttl: ttl ?? rec.ttl ?? defTtl });
  const T = Packet.TYPE;
  switch (type) {
    case 'A':
    case 'AAAA':
      return (rec[type] ?? []).map((v) =>
        typeof v === 'string' ? { ...base(), type: T[type], address: v } : { ...base(v.ttl), type: T[type], address: v.address },
      );
    case 'TXT':
      return (rec.TXT ?? []).map((v) =>
        typeof v === 'string' || Array.isArray(v)
          ? { ...base(), type: T.TXT, data: txtChunks(v) }
          : { ...base(v.ttl), type: T.TXT, data: txtChunks(v.value) },
      );
    case 'MX':
      return (rec.MX ?? []).map((v) =>
        Array.isArray(v)
          ? { ...base(), type: T.MX, priority: v[0], exchange: v[1] }
          : { ...base(v.ttl), type: T.MX, priority: v.priority, exchange: v.exchange },
      );
    case 'PTR':
    case 'NS':
    case 'CNAME': {
      const raw = type === 'CNAME' ? (rec.CNAME === undefined ? [] : [rec.CNAME]) : (rec[type] ?? []);
      return raw.map((v) =>
        typeof v === 'string' ? { ...base(), type: T[type], domain: norm(v), ns: norm(v) } : { ...base(v.ttl), type: T[type], domain: norm(v.value), ns: norm(v.value) },
      );
    }
    default:
      return [];
  }
}

/** Starts the server on a free port (UDP and TCP share it). */
export async function startDnsServer(initial: Zones, opts: DnsServerOptions = {}): Promise<TestDnsServer> {
  const defTtl = opts.defaultTtl ?? 300;
  const soaMin = opts.soaMinimum ?? 60;
  let zones = new Map<string, NameRecords>();
  const setZones = (z: Zones): void => {
    zones = new Map(Object.entries(z).map(([k, v]) => [norm(k), v]));
  };
  setZones(initial);
  const exists = (name: string): boolean => zones.has(name) || [...zones.keys()].some((k) => k.endsWith(`.${name}`));
  const sockets = new Set<net.Socket>();

  const state: TestDnsServer = {
    port: 0,
    address: '',
    queries: [],
    count: (name, type) => state.queries.filter((q) => q.name === norm(name) && (!type || q.type === type.toUpperCase())).length,
    resetLog: () => {
      state.queries.length = 0;
    },
    setZones,
    silent: false,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };

  // dns2's request/response objects are loosely typed JS; `any` keeps this adapter short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const handle = (request: any, send: (resp: any) => void, client: unknown): void => {
    const q = request.questions?.[0];
    if (!q) return;
    const qname = norm(String(q.name));
    const type = TYPE_NAMES[q.type as number] ?? String(q.type);
    if (client instanceof net.Socket) sockets.add(client);
    state.queries.push({ name: qname, type, proto: client instanceof net.Socket ? 'tcp' : 'udp' });
    if (state.silent) return;
    const response: any = Packet.createResponseFromRequest(request); // see the note on `handle`
    response.header.aa = 1;
    let cur = qname;
    for (let hop = 0; hop < 8; hop++) {
      const rec = zones.get(cur);
      if (!rec) break;
      const found = recordsOf(rec, cur, type, defTtl);
      if (found.length) {
        response.answers.push(...found);
        break;
      }
      if (rec.CNAME !== undefined && type !== 'CNAME') {
        const cname = recordsOf(rec, cur, 'CNAME', defTtl)[0] as { domain: string };
        response.answers.push(cname);
        cur = cname.domain;
        continue;
      }
      if (rec.TIMEOUT) return; // drop: the client must time out
      break;
    }
    if (response.answers.length === 0) {
      if (!exists(qname)) response.header.rcode = 3; // NXDOMAIN (dns2's typings omit Packet.RCODE)
      response.authorities.push(soaFor(qname, soaMin));
    }
    send(response);
  };

  const udp = dns2.createUDPServer(handle);
  const tcp = dns2.createTCPServer(handle);
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const port = (udp.address() as { port: number }).port;
  const ok = await new Promise<boolean>((r) => {
    tcp.once('error', () => r(false));
    tcp.listen(port, '127.0.0.1', () => r(true));
  });
  if (!ok) {
    // the TCP side of this port is taken: a closed dgram socket cannot be re-bound, start over
    await new Promise<void>((r) => udp.close(() => r()));
    return startDnsServer(initial, opts);
  }
  state.port = port;
  state.address = `127.0.0.1:${port}`;
  return state;
}

/** A 127.0.0.1 port with nothing listening on UDP or TCP (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
