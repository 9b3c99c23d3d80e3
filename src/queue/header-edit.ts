/**
 * @module queue/header-edit
 * Applies a message's header edits (from transport rules: set/overwrite a field, remove a field,
 * prefix the subject; stored in `meta.facts.headerEdits`) to the message stream as it leaves, so
 * the spooled file is never rewritten: only the header section is buffered (up to MAX_HEADER_BYTES;
 * past that the message passes unchanged) and the body streams through. Chosen over rewriting at
 * spool time because rules run after the file is written and fsynced: a rewrite would copy and
 * fsync every edited message again, while editing on the way out costs one buffer of headers per
 * delivery attempt of only those messages. Non-ASCII values are written as RFC 2047 encoded words.
 * Touches: nothing (a stream transform). RFCs: 5322 §2.2 (fields, folding), 2047 (encoded words).
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';

export type HeaderEdit = { op: 'set'; name: string; value: string } | { op: 'remove'; name: string } | { op: 'prepend-subject'; text: string };

/** Header sections larger than this are passed through unedited (the data guard caps them far below). */
export const MAX_HEADER_BYTES = 1024 * 1024;

/** The edits stored in a message's facts, or [] when there are none (or they are malformed). */
export function headerEditsOf(facts: Record<string, unknown>): HeaderEdit[] {
  const raw = facts.headerEdits;
  if (!Array.isArray(raw)) return [];
  return raw.filter((e): e is HeaderEdit => {
    const x = e as Record<string, unknown>;
    if (x.op === 'set') return typeof x.name === 'string' && typeof x.value === 'string';
    if (x.op === 'remove') return typeof x.name === 'string';
    return x.op === 'prepend-subject' && typeof x.text === 'string';
  });
}

/** A header value safe to write: one line; non-ASCII as one UTF-8 base64 encoded word (RFC 2047 §4). */
function encodeValue(v: string): string {
  const line = v.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(line) ? line : `=?UTF-8?B?${Buffer.from(line, 'utf8').toString('base64')}?=`;
}

/** Split a header section (without the blank line) into fields, each with its continuation lines. */
function fields(section: string): string[] {
  const out: string[] = [];
  for (const line of section.split('\r\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) out[out.length - 1] += '\r\n' + line;
    else if (line !== '') out.push(line);
  }
  return out;
}

function nameOf(field: string): string {
  const colon = field.indexOf(':');
  return (colon < 0 ? field : field.slice(0, colon)).trim().toLowerCase();
}

/** Apply the edits, in order, to a header section (CRLF lines, no blank line). */
export function editHeaderSection(section: string, edits: readonly HeaderEdit[]): string {
  let fs = fields(section);
  for (const e of edits) {
    if (e.op === 'remove') fs = fs.filter((f) => nameOf(f) !== e.name.toLowerCase());
    else if (e.op === 'set') {
      fs = fs.filter((f) => nameOf(f) !== e.name.toLowerCase());
      fs.push(`${e.name}: ${encodeValue(e.value)}`);
    } else {
      const i = fs.findIndex((f) => nameOf(f) === 'subject');
      const prefix = encodeValue(e.text);
      // An encoded-word prefix needs whitespace before the original text (RFC 2047 §5).
      const join = prefix.endsWith('?=') ? ' ' : '';
      if (i < 0) fs.push(`Subject: ${prefix}`);
      else {
        const f = fs[i] ?? '';
        const colon = f.indexOf(':');
        fs[i] = `${f.slice(0, colon + 1)} ${prefix}${join}${f.slice(colon + 1).replace(/^[ \t]+/, '')}`;
      }
    }
  }
  return fs.map((f) => f + '\r\n').join('');
}

/** A transform applying `edits` to the header section of the message flowing through it. */
export class HeaderEditor extends Transform {
  private head: Buffer[] = [];
  private headLength = 0;
  private passing = false;

  constructor(private readonly edits: readonly HeaderEdit[]) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.passing) return cb(null, chunk);
    this.head.push(chunk);
    this.headLength += chunk.length;
    const all = Buffer.concat(this.head);
    const end = all.indexOf('\r\n\r\n');
    if (end >= 0) {
      this.passing = true;
      const section = all.subarray(0, end + 2).toString('latin1');
      // latin1 round-trips every byte of the original; new values are ASCII (encodeValue).
      this.push(Buffer.from(editHeaderSection(section, this.edits), 'latin1'));
      return cb(null, all.subarray(end + 2));
    }
    this.head = [all];
    if (this.headLength > MAX_HEADER_BYTES) {
      this.passing = true;
      return cb(null, all);
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (!this.passing && this.headLength > 0) {
      // A message that is all header section (no body): edit it as a whole.
      const text = Buffer.concat(this.head).toString('latin1');
      const section = text.endsWith('\r\n') ? text : text + '\r\n';
      this.push(Buffer.from(editHeaderSection(section, this.edits), 'latin1'));
    }
    cb();
  }
}

/** The message stream with the edits applied (the stream itself when there are none). */
export function withHeaderEdits(message: Readable, edits: readonly HeaderEdit[]): Readable {
  if (edits.length === 0) return message;
  const editor = new HeaderEditor(edits);
  message.on('error', (err) => editor.destroy(err));
  return message.pipe(editor);
}
