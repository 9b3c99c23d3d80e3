/**
 * @module audit/json-records
 * Streaming reader of JSON records for EmailEvents exports: JSON lines (one object per line) or
 * one JSON array of objects (the Defender portal and `Invoke-MgGraphRequest` … | ConvertTo-Json).
 * A small state machine (depth, in-string, escape) cuts each top-level object out of the text as
 * it arrives and JSON.parses it alone, so the file is never held in memory whole.
 * Malformed objects are reported (line, reason) and skipped; text outside objects other than
 * `[`, `]`, `,` and whitespace is reported once per line. At the end, an object still open is
 * reported as the place the file was cut off.
 * Touches: nothing (pure).
 * RFCs: 8259, and JSON Lines.
 */

export interface JsonRecord {
  value: Record<string, unknown>;
  line: number;
}

export interface JsonEnd {
  /** The file ended inside an object that began on this line. */
  openObjectLine?: number | undefined;
}

/** Streaming splitter of top-level JSON objects. */
export class JsonRecordReader {
  private depth = 0;
  private inString = false;
  private escape = false;
  private line = 1;
  private startLine = 0;
  private parts: string[] = [];
  private strayLine = 0;

  constructor(
    private readonly onRecord: (r: JsonRecord) => void,
    private readonly onError: (line: number, reason: string) => void,
  ) {}

  push(text: string): void {
    let segStart = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.line++;
      if (this.depth > 0) {
        if (this.inString) {
          if (this.escape) this.escape = false;
          else if (c === 92) this.escape = true;
          else if (c === 34) this.inString = false;
        } else if (c === 34) this.inString = true;
        else if (c === 123 || c === 91) this.depth++;
        else if (c === 125 || c === 93) {
          this.depth--;
          if (this.depth === 0) {
            this.parts.push(text.slice(segStart, i + 1));
            this.emit(this.parts.join(''));
            this.parts = [];
            segStart = -1;
          }
        }
      } else if (c === 123) {
        this.depth = 1;
        this.startLine = this.line;
        segStart = i;
      } else if (c !== 91 && c !== 93 && c !== 44 && c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) {
        if (this.strayLine !== this.line) {
          this.strayLine = this.line;
          this.onError(this.line, `unexpected text "${text.slice(i, i + 20)}" outside a JSON object`);
        }
      }
    }
    if (this.depth > 0 && segStart >= 0) this.parts.push(text.slice(segStart));
  }

  finish(): JsonEnd {
    return this.depth > 0 ? { openObjectLine: this.startLine } : {};
  }

  private emit(s: string): void {
    try {
      const v: unknown = JSON.parse(s);
      if (v && typeof v === 'object' && !Array.isArray(v)) this.onRecord({ value: v as Record<string, unknown>, line: this.startLine });
      else this.onError(this.startLine, 'not a JSON object');
    } catch (e) {
      this.onError(this.startLine, `invalid JSON: ${(e as Error).message}`);
    }
  }
}
