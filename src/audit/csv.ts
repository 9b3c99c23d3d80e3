/**
 * @module audit/csv
 * A streaming RFC 4180 CSV reader: text is pushed in chunks of any size and whole records come out
 * with the physical line they began on. Quoted fields may hold commas, doubled quotes and CR/LF;
 * records end at CRLF or LF (or a lone CR right after a quoted field); a CR inside an unquoted field is data. Unquoted fields are cut with indexOf, not character by
 * character, so a million-row export parses in a second or two.
 * Lenient where exporters are sloppy, never silent: text after a closing quote is kept and the
 * record flagged (`problem`), so the importer lists it as malformed.
 * At the end of input, a record still inside a quoted field is not emitted: `finish()` reports
 * the line it began on (a file cut off mid-way); a last record without a line end is emitted and
 * `endedWithoutNewline` is set so a short last row can be called cut off.
 * The delimiter is `,` unless given: Export-Csv -UseCulture writes the locale's list separator
 * (`;` in de-DE, fr-FR, nl-NL …), and `-Delimiter "`t"` a tab (see audit/forms sniffDelimiter).
 * Touches: nothing (pure).
 * RFCs: 4180.
 */

export interface CsvRecord {
  fields: string[];
  /** Physical line (1-based) the record began on. */
  line: number;
  /** Set when the record was read leniently (text after a closing quote). */
  problem?: string | undefined;
}

export interface CsvEnd {
  /** The file ended inside a quoted field that began on this line: that record was not emitted. */
  openQuoteLine?: number | undefined;
  /** The last record had no line end. */
  endedWithoutNewline: boolean;
  /** Physical lines read. */
  lines: number;
}

const QUOTE = 34;
const CR = 13;
const LF = 10;

function countLf(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Streaming CSV reader: push() text, get records through the callback, finish() at the end. */
export class CsvReader {
  private buf = '';
  private pos = 0;
  private line = 1;
  private nl = -1;
  private openQuoteLine: number | undefined;
  private lastHadNewline = true;

  private readonly sep: string;
  private readonly SEP: number;

  constructor(
    private readonly onRecord: (r: CsvRecord) => void,
    delimiter = ',',
  ) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') throw new Error(`invalid CSV delimiter ${JSON.stringify(delimiter)}`);
    this.sep = delimiter;
    this.SEP = delimiter.charCodeAt(0);
  }

  /** Feed the next piece of text. */
  push(text: string): void {
    this.buf = this.pos === 0 ? this.buf + text : this.buf.slice(this.pos) + text;
    this.pos = 0;
    this.nl = -1;
    this.run(false);
  }

  /** No more input: emit the last record if whole, and say how the input ended. */
  finish(): CsvEnd {
    this.run(true);
    return { openQuoteLine: this.openQuoteLine, endedWithoutNewline: !this.lastHadNewline, lines: this.line - (this.lastHadNewline ? 1 : 0) };
  }

  private run(final: boolean): void {
    while (this.pos < this.buf.length) if (!this.record(final)) break;
    if (this.pos >= this.buf.length) {
      this.buf = '';
      this.pos = 0;
      this.nl = -1;
    }
  }

  /** Parse one record at pos; false when it is incomplete (wait for more input, or end of file). */
  private record(final: boolean): boolean {
    const buf = this.buf;
    const len = buf.length;
    const fields: string[] = [];
    let p = this.pos;
    let extraLines = 0;
    let problem: string | undefined;
    for (;;) {
      if (p >= len) {
        if (!final) return false;
        fields.push('');
        return this.emit(fields, p, extraLines, false, problem);
      }
      if (buf.charCodeAt(p) === QUOTE) {
        let val = '';
        let q = p + 1;
        for (;;) {
          const i = buf.indexOf('"', q);
          if (i < 0 || (i + 1 >= len && !final)) {
            if (final && i < 0) {
              this.openQuoteLine = this.line;
              this.pos = len;
            }
            return false;
          }
          if (buf.charCodeAt(i + 1) === QUOTE) {
            val += buf.slice(q, i + 1);
            q = i + 2;
            continue;
          }
          val += buf.slice(q, i);
          p = i + 1;
          break;
        }
        if (val.indexOf('\n') >= 0) extraLines += countLf(val);
        else if (val.indexOf('\r') >= 0) extraLines += val.split('\r').length - 1;
        if (p >= len) {
          if (!final) return false;
          fields.push(val);
          return this.emit(fields, p, extraLines, false, problem);
        }
        let c = buf.charCodeAt(p);
        if (c !== this.SEP && c !== CR && c !== LF) {
          // Text after the closing quote: keep it, flag the record.
          problem ??= `text after the closing quote of field ${fields.length + 1}`;
          let j = p;
          while (j < len && (c = buf.charCodeAt(j)) !== this.SEP && c !== CR && c !== LF) j++;
          if (j >= len && !final) return false;
          val += buf.slice(p, j);
          p = j;
          if (p >= len) {
            fields.push(val);
            return this.emit(fields, p, extraLines, false, problem);
          }
        }
        fields.push(val);
        if (c === this.SEP) {
          p++;
          continue;
        }
        if (c === CR) {
          if (p + 1 >= len && !final) return false;
          p += buf.charCodeAt(p + 1) === LF ? 2 : 1;
        } else p++;
        return this.emit(fields, p, extraLines, true, problem);
      }
      // Unquoted field: up to the next delimiter or line end.
      if (this.nl < p) {
        this.nl = buf.indexOf('\n', p);
        if (this.nl < 0) this.nl = len + 1;
      }
      const ci = buf.indexOf(this.sep, p);
      if (ci >= 0 && ci < this.nl) {
        const f = buf.slice(p, ci);
        fields.push(f);
        p = ci + 1;
        continue;
      }
      if (this.nl <= len) {
        const end = this.nl > p && buf.charCodeAt(this.nl - 1) === CR ? this.nl - 1 : this.nl;
        const f = buf.slice(p, end);
        fields.push(f);
        return this.emit(fields, this.nl + 1, extraLines, true, problem);
      }
      if (!final) return false;
      let end = len;
      if (buf.charCodeAt(len - 1) === CR) end = len - 1;
      const f = buf.slice(p, end);
      fields.push(f);
      return this.emit(fields, len, extraLines, end < len, problem);
    }
  }

  private emit(fields: string[], next: number, extraLines: number, newline: boolean, problem: string | undefined): boolean {
    const line = this.line;
    this.line += extraLines + (newline ? 1 : 0);
    this.pos = next;
    this.lastHadNewline = newline;
    // A blank line is no record.
    if (!(fields.length === 1 && fields[0] === '')) this.onRecord(problem ? { fields, line, problem } : { fields, line });
    return true;
  }
}
