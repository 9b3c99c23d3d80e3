/**
 * @module smtp/data-guard
 * A Transform that sits on the DATA stream of `smtp-server` and enforces the byte-level rules of
 * a message before anything else sees it: no bare LF, no bare CR (the SMTP smuggling defence,
 * CVE-2023-51764/51765/51766 class, Postfix `smtpd_forbid_bare_newline = reject`), a line length
 * limit, a total size limit and a header block size limit, and no NUL byte (RFC 5322 §3.5 `text`
 * and RFC 6152 8bit data exclude it; a next hop written in C may cut a line at it). It buffers the
 * header block, strips the headers the caller names (with their folded continuation lines), records
 * every From (and the first Subject and Message-ID), and passes the body through untouched. On
 * the first violation it stops emitting but keeps consuming, so the session stays in sync and the
 * reply is given after the final dot.
 * Events: 'headers' (block: Buffer), once, synchronously just before the header block is emitted
 * (the bytes emitted, the empty separator line included when there is one): a listener that pipes
 * the guard somewhere from that moment on receives the header block too. Not emitted for an empty
 * message or when a violation comes before the header block ends.
 * Touches: nothing (pure stream transform; no I/O, no config).
 * RFCs: 5321 §2.3.8 (CRLF only), §4.5.2 (dot-stuffing), §4.5.3.1.6 (998+CRLF line limit),
 * 5322 §2.2.3 (folding), §2.1 (header/body separator).
 *
 * What reaches us, read from smtp-server 3.21.6 `dist/esm/smtp-stream.js` (`_feedDataStream`):
 * - DATA ends ONLY on the exact bytes CRLF "." CRLF (`END_SEQUENCE`), or on ".\r\n" as the very
 *   first DATA line (empty message). The CRLF before the terminating dot IS emitted (it ends the
 *   last line: `chunk.subarray(0, i)` with `i` at the dot), so a normal message arrives ending in
 *   CRLF; the "." CRLF is not emitted.
 * - "\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n" etc. do not end DATA: they are passed through
 *   verbatim as content. Bare LF and bare CR are never rejected or normalised there.
 * - Dot-unstuffing removes a "." that follows ANY LF (it tests `chunk[i - 1] === 0x0a`, so also a
 *   bare LF) when another "." follows, and a leading ".." at the start of DATA. So "\n..x" arrives
 *   as "\n.x". Since a bare LF is a violation here anyway, that difference never reaches a next hop.
 */
import { Transform, type TransformCallback } from 'node:stream';
import mailsplit from '@zone-eu/mailsplit';

const { Headers } = mailsplit;

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const CRLF = Buffer.from('\r\n');

export type DataViolation = 'bare-lf' | 'bare-cr' | 'nul' | 'line-too-long' | 'size' | 'headers-too-large';

export interface DataGuardOptions {
  /** Total message bytes allowed (as received, after dot-unstuffing). */
  maxSize: number;
  /** Longest line allowed, in bytes, excluding CRLF (RFC 5321: 998). */
  maxLineLength: number;
  /** Largest header block allowed, including the empty separator line. Default 262144. */
  maxHeaderBytes?: number;
  /** Called with each header's lowercased name and its raw line (folds included); true removes that line. */
  stripHeaders: (name: string, line: string) => boolean;
}

export interface DataGuardResult {
  violation?: DataViolation;
  bytesIn: number;
  bytesOut: number;
  headerFrom?: string;
  /** The value of every From field, in order (RFC 5322 allows one; more is a spoofing shape). */
  headerFroms: string[];
  subject?: string;
  messageId?: string;
  /** Header fields in the emitted header block (after stripping). */
  headerCount: number;
  /** Header fields removed by `stripHeaders`. */
  headersStripped: number;
}

/** Unfold (RFC 5322 §2.2.3), trim, and read as UTF-8 when it is valid UTF-8 (else latin1). */
function headerValue(line: string): string {
  const colon = line.indexOf(':');
  const v = line.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').trim();
  const utf8 = Buffer.from(v, 'binary').toString('utf8');
  return utf8.includes('\uFFFD') ? v : utf8;
}

export class DataGuard extends Transform {
  private readonly maxSize: number;
  private readonly maxLineLength: number;
  private readonly maxHeaderBytes: number;
  private readonly stripHeaders: (name: string, line: string) => boolean;

  private violation: DataViolation | undefined;
  private bytesIn = 0;
  private bytesOut = 0;
  /** The last scanned byte was a CR whose successor has not been seen yet. */
  private prevCR = false;
  /** Bytes of the current line seen so far (a trailing CR included, LF excluded). */
  private lineRaw = 0;
  private inHeaders = true;
  private headerChunks: Buffer[] = [];
  private headerLen = 0;
  private headerFrom: string | undefined;
  private headerFroms: string[] = [];
  private subject: string | undefined;
  private messageId: string | undefined;
  private headerCount = 0;
  private headersStripped = 0;

  constructor(opts: DataGuardOptions) {
    super();
    this.maxSize = opts.maxSize;
    this.maxLineLength = opts.maxLineLength;
    this.maxHeaderBytes = opts.maxHeaderBytes ?? 262144;
    this.stripHeaders = opts.stripHeaders;
  }

  result(): DataGuardResult {
    const r: DataGuardResult = {
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      headerCount: this.headerCount,
      headersStripped: this.headersStripped,
      headerFroms: this.headerFroms,
    };
    if (this.violation) r.violation = this.violation;
    if (this.headerFrom !== undefined) r.headerFrom = this.headerFrom;
    if (this.subject !== undefined) r.subject = this.subject;
    if (this.messageId !== undefined) r.messageId = this.messageId;
    return r;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const start = this.bytesIn;
    this.bytesIn += chunk.length;
    if (this.violation) return cb();
    let end = chunk.length;
    let sizeHit = false;
    if (start + end > this.maxSize) {
      end = Math.max(0, this.maxSize - start);
      sizeHit = true;
    }
    this.process(chunk, 0, end);
    if (!this.violation && sizeHit) this.violation = 'size';
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (!this.violation) {
      if (this.prevCR) this.violation = 'bare-cr';
      else if (this.inHeaders) this.emitHeaders(false);
    }
    this.headerChunks = [];
    cb();
  }

  private out(buf: Buffer): void {
    if (buf.length === 0) return;
    this.bytesOut += buf.length;
    this.push(buf);
  }

  /** Scan and emit chunk[from, to). Positions beyond `to` (over the size limit) are never looked at. */
  private process(chunk: Buffer, from: number, to: number): void {
    let pos = from;
    if (this.inHeaders) {
      const limit = Math.min(to, pos + (this.maxHeaderBytes - this.headerLen));
      const e = this.scan(chunk, pos, limit, true);
      if (this.violation) return;
      if (e < 0) {
        if (limit > pos) this.headerChunks.push(chunk.subarray(pos, limit));
        this.headerLen += limit - pos;
        if (limit < to) this.violation = 'headers-too-large';
        return;
      }
      this.headerChunks.push(chunk.subarray(pos, e));
      this.headerLen += e - pos;
      this.emitHeaders(true);
      pos = e;
    }
    if (pos >= to) return;
    this.scan(chunk, pos, to, false);
    if (this.violation) return;
    this.out(pos === 0 && to === chunk.length ? chunk : chunk.subarray(pos, to));
  }

  /**
   * Check buf[from, to) for bare CR/LF, NUL bytes and long lines, carrying state across calls
   * exactly as if the bytes were contiguous, so that the first violation found does not depend on
   * chunking. Each violation has a position (bare CR: the CR; bare LF: the LF; NUL: the NUL; long
   * line: the first byte that makes the raw line exceed maxLineLength + 1, the +1 being its CR),
   * and the earliest wins, a long line winning a tie. With `headers`, stops after the LF of the first empty
   * line and returns the index after it; otherwise (or if not found) returns -1.
   */
  private scan(buf: Buffer, from: number, to: number, headers: boolean): number {
    if (from >= to) return -1;
    const max1 = this.maxLineLength + 1;
    if (this.prevCR && buf[from] !== LF) {
      this.violation = 'bare-cr';
      return -1;
    }
    let pos = from;
    let cr = buf.indexOf(CR, pos);
    if (cr >= to) cr = -1;
    let nul = buf.indexOf(NUL, pos);
    if (nul >= to) nul = -1;
    while (pos < to) {
      let lf = buf.indexOf(LF, pos);
      if (lf >= to) lf = -1;
      const segEnd = lf < 0 ? to : lf;
      const raw = this.lineRaw + (segEnd - pos);
      const tooLongAt = raw > max1 ? pos + (max1 - this.lineRaw) : Infinity;
      // the only CR allowed in a segment is its last byte, and only if an LF follows (or may follow)
      const bareCrAt = cr >= 0 && cr < segEnd - 1 ? cr : Infinity;
      const nulAt = nul >= 0 && nul < segEnd ? nul : Infinity;
      let bareLfAt = Infinity;
      if (lf >= 0) {
        const before = lf > from ? buf[lf - 1] === CR : this.prevCR;
        if (!before) bareLfAt = lf;
      }
      const firstAt = Math.min(tooLongAt, bareCrAt, bareLfAt, nulAt);
      if (firstAt !== Infinity) {
        if (tooLongAt === firstAt) this.violation = 'line-too-long';
        else if (nulAt === firstAt) this.violation = 'nul';
        else if (bareCrAt < bareLfAt) this.violation = 'bare-cr';
        else this.violation = 'bare-lf';
        return -1;
      }
      if (lf < 0) {
        this.lineRaw = raw;
        this.prevCR = buf[to - 1] === CR;
        return -1;
      }
      // a good CRLF-terminated line
      this.lineRaw = 0;
      this.prevCR = false;
      pos = lf + 1;
      if (cr >= 0 && cr < pos) {
        cr = buf.indexOf(CR, pos);
        if (cr >= to) cr = -1;
      }
      if (nul >= 0 && nul < pos) {
        nul = buf.indexOf(NUL, pos);
        if (nul >= to) nul = -1;
      }
      if (headers && raw === 1) return pos;
    }
    return -1;
  }

  /** Parse the buffered header block, strip, record, and emit it. */
  private emitHeaders(separator: boolean): void {
    this.inHeaders = false;
    const raw = this.headerChunks.length === 1 ? this.headerChunks[0]! : Buffer.concat(this.headerChunks, this.headerLen);
    this.headerChunks = [];
    if (raw.length === 0) return;
    if (separator && raw.length === 2) {
      // the message opens with the empty line: no headers at all
      this.emitBlock(raw);
      return;
    }
    const h = new Headers(raw);
    const lines = h.getList();
    // mailsplit takes a first line opening "From " or "POST " as an mbox/HTTP preamble and hides it
    // from getList(); "From : x" (RFC 5322 obs-optional WSP) is a From header to a next hop, so it
    // is put back as a header line, to be seen by stripHeaders and the From extraction.
    for (const pre of [h.http, h.mbox]) {
      if (pre) lines.unshift({ key: pre.slice(0, Math.max(0, pre.indexOf(':'))).toLowerCase().trim(), line: pre });
    }
    h.mbox = false;
    h.http = false;
    // Per line, so a predicate can look at the value (an Authentication-Results that claims our
    // authserv-id is removed, one from another host is kept: RFC 8601 §5).
    const kept = lines.filter((l) => !(l.key && this.stripHeaders(l.key, l.line)));
    this.headersStripped = lines.length - kept.length;
    this.headerCount = kept.length;
    for (const l of kept) {
      if (l.key === 'from') this.headerFroms.push(headerValue(l.line));
      if (l.key === 'from' && this.headerFrom === undefined) this.headerFrom = headerValue(l.line);
      else if (l.key === 'subject' && this.subject === undefined) this.subject = headerValue(l.line);
      else if (l.key === 'message-id' && this.messageId === undefined) this.messageId = headerValue(l.line);
    }
    if (this.headersStripped === 0) {
      this.emitBlock(raw); // byte for byte as received
      return;
    }
    const endsCrlf = raw.length >= 2 && raw[raw.length - 2] === CR && raw[raw.length - 1] === LF;
    // mailsplit parses the block as a binary string; joining the kept lines back gives their bytes.
    let built = kept.map((l) => l.line + '\r\n').join('');
    if (separator) built += '\r\n';
    else if (!endsCrlf && built.length > 0) built = built.slice(0, -2);
    if (built.length > 0) this.emitBlock(Buffer.from(built, 'latin1'));
  }

  private emitBlock(block: Buffer): void {
    this.emit('headers', block);
    this.out(block);
  }
}
