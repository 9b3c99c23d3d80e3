/**
 * @module auth/dns-wire
 * The DNS wire format, just enough of it for a stub resolver: encode one question (with an EDNS0
 * OPT record advertising a 1232-byte UDP payload) and decode a response's header, answer and
 * authority sections, keeping every record's TTL. We decode the wire ourselves because Node's
 * `dns.Resolver` exposes TTLs only for A/AAAA and never the SOA of a negative answer, and a cache
 * that honours TTLs needs both (see auth/resolver).
 * Touches: nothing (pure functions on Buffers).
 * RFCs: 1035 §3-4 (message format, name compression), 3596 (AAAA), 2181 §8 (TTL > 2^31-1 is 0),
 * 2308 (SOA in the authority section of negative answers), 6891 (EDNS0 OPT).
 */

/** Record types we can ask for and decode; mailauth asks for TXT, A, AAAA, MX and PTR. */
export const RRTYPE: Readonly<Record<string, number>> = Object.freeze({
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SPF: 99,
});

/** Response codes (RFC 1035 §4.1.1). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Soa {
  mname: string;
  rname: string;
  serial: number;
  minimum: number;
}

export type RData = string | string[] | { exchange: string; priority: number } | Soa | Buffer;

export interface ResourceRecord {
  name: string;
  type: number;
  ttl: number;
  data: RData;
}

export interface DnsResponse {
  id: number;
  qr: boolean;
  tc: boolean;
  rcode: number;
  question?: { name: string; type: number };
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
}

/** An Error shaped like node:dns errors (`code`, `hostname`), which is what mailauth inspects. */
export function dnsError(code: string, hostname: string, message?: string): Error & { code: string; hostname: string } {
  // No stack: NXDOMAIN/NODATA answers are thrown on every SPF/DMARC evaluation (mailauth expects
  // node:dns-style errors), a captured stack would only ever show the resolver, and capturing it
  // was 6 % of an evaluation's CPU (profiled).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const err = new Error(message ?? `${code} ${hostname}`) as Error & { code: string; hostname: string };
  Error.stackTraceLimit = limit;
  err.code = code;
  err.hostname = hostname;
  return err;
}

function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return Buffer.from([0]);
  const parts: Buffer[] = [];
  let total = 1;
  for (const label of trimmed.split('.')) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length === 0 || bytes.length > 63) throw dnsError('EBADNAME', name, `invalid DNS label in ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
    total += bytes.length + 1;
  }
  if (total > 255) throw dnsError('EBADNAME', name, `DNS name too long: ${name}`);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Encodes a recursive query for one (name, type) question. */
export function encodeQuery(id: number, name: string, type: number, edns = true): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(edns ? 1 : 0, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2); // IN
  const parts = [header, encodeName(name), tail];
  if (edns) {
    // root name, type OPT(41), class = UDP payload size, ttl 0, rdlength 0
    parts.push(Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
  }
  return Buffer.concat(parts);
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos = 0,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw dnsError('EBADRESP', '', 'truncated DNS message');
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** Reads a possibly compressed name; guards against pointer loops. */
  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    for (let hops = 0; hops < 128; hops++) {
      if (pos >= this.buf.length) throw dnsError('EBADRESP', '', 'name runs past message');
      const len = this.buf.readUInt8(pos);
      if (len === 0) {
        if (!jumped) this.pos = pos + 1;
        return labels.join('.');
      }
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw dnsError('EBADRESP', '', 'bad compression pointer');
        const target = ((len & 0x3f) << 8) | this.buf.readUInt8(pos + 1);
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if (pos + 1 + len > this.buf.length) throw dnsError('EBADRESP', '', 'label runs past message');
      labels.push(this.buf.toString('latin1', pos + 1, pos + 1 + len));
      pos += 1 + len;
    }
    throw dnsError('EBADRESP', '', 'compression loop');
  }
}

function formatIPv6(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run (length >= 2) of zero groups
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

function decodeRData(r: Reader, type: number, len: number): RData {
  const end = r.pos + len;
  let data: RData;
  switch (type) {
    case 1:
      data = Array.from(r.bytes(4)).join('.');
      break;
    case 28:
      data = formatIPv6(r.bytes(16));
      break;
    case 2:
    case 5:
    case 12:
      data = r.name();
      break;
    case 15: {
      const priority = r.u16();
      data = { priority, exchange: r.name() };
      break;
    }
    case 16:
    case 99: {
      const strings: string[] = [];
      while (r.pos < end) {
        const n = r.u8();
        if (r.pos + n > end) throw dnsError('EBADRESP', '', 'TXT string overruns rdata');
        strings.push(r.bytes(n).toString('utf8'));
      }
      data = strings;
      break;
    }
    case 6: {
      const mname = r.name();
      const rname = r.name();
      const serial = r.u32();
      r.u32(); // refresh
      r.u32(); // retry
      r.u32(); // expire
      data = { mname, rname, serial, minimum: r.u32() };
      break;
    }
    default:
      data = Buffer.from(r.bytes(len));
  }
  r.pos = end;
  return data;
}

function readRecords(r: Reader, count: number): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.name();
    const type = r.u16();
    r.u16(); // class
    const rawTtl = r.u32();
    const len = r.u16();
    r.need(len);
    const ttl = rawTtl > 0x7fffffff ? 0 : rawTtl; // RFC 2181 §8
    const data = decodeRData(r, type, len);
    if (type !== 41) out.push({ name, type, ttl, data });
  }
  return out;
}

/** Decodes a response message; throws EBADRESP on malformed input. */
export function decodeResponse(buf: Buffer): DnsResponse {
  const r = new Reader(buf);
  const id = r.u16();
  const flags = r.u16();
  const qd = r.u16();
  const an = r.u16();
  const ns = r.u16();
  r.u16(); // additional count: not needed
  let question: DnsResponse['question'];
  for (let i = 0; i < qd; i++) {
    const name = r.name();
    const type = r.u16();
    r.u16();
    question ??= { name, type };
  }
  const res: DnsResponse = {
    id,
    qr: (flags & 0x8000) !== 0,
    tc: (flags & 0x0200) !== 0,
    rcode: flags & 0x000f,
    answers: [],
    authorities: [],
  };
  if (question) res.question = question;
  if (res.tc) return res; // a truncated answer is retried over TCP; its sections may be cut
  res.answers = readRecords(r, an);
  res.authorities = readRecords(r, ns);
  return res;
}
