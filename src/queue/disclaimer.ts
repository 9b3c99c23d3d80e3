/**
 * @module queue/disclaimer
 * The external-sender banner (a transport rule's applyHtmlDisclaimer, Exchange's
 * ApplyHtmlDisclaimerText with location Prepend) put at the top of the message body as it leaves:
 * the message is streamed through @zone-eu/mailsplit (split → rewrite → join, never whole in
 * memory); the first text/html part gets the text (HTML-escaped, in a bordered block) right after
 * its <body> tag, the first text/plain part gets it as the first paragraph; each part keeps its
 * transfer encoding. Attachments and every other part pass untouched. Like any body change this
 * breaks DKIM signatures over the body (as Exchange's disclaimers do).
 * Touches: nothing (a stream pipeline). RFCs: 2045 (transfer encodings), 2046 (multipart).
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import mailsplit from '@zone-eu/mailsplit';

const { Splitter, Rewriter, Joiner } = mailsplit;

/** How far into an HTML part the <body> tag is looked for before the banner is put first anyway. */
const BODY_TAG_WINDOW = 64 * 1024;

/** The disclaimer stored in a message's facts (`facts.disclaimer`), or undefined. */
export function disclaimerOf(facts: Record<string, unknown>): string | undefined {
  return typeof facts.disclaimer === 'string' && facts.disclaimer !== '' ? facts.disclaimer : undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/[^\x20-\x7e\r\n]/g, (c) => `&#${c.codePointAt(0) ?? 63};`);
}

/** The banner block of an HTML part. */
export function htmlBanner(text: string): string {
  return `<div style="border:1px solid #c00;padding:6px;margin:0 0 8px 0;background:#fff4f4;color:#000">${escapeHtml(text)}</div>`;
}

/** Puts `insert` after the first <body …> tag within the window (or first, when there is none). */
class Inserter extends Transform {
  private buf: Buffer[] = [];
  private size = 0;
  private done = false;

  constructor(
    private readonly insert: string,
    private readonly html: boolean,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    if (this.done) return cb(null, chunk);
    if (!this.html) {
      this.done = true;
      this.push(Buffer.from(this.insert, 'utf8'));
      return cb(null, chunk);
    }
    this.buf.push(chunk);
    this.size += chunk.length;
    const text = Buffer.concat(this.buf).toString('latin1');
    const m = /<body\b[^>]*>/i.exec(text);
    if (m || this.size > BODY_TAG_WINDOW) this.emitWith(text, m ? m.index + m[0].length : 0);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (!this.done) this.emitWith(Buffer.concat(this.buf).toString('latin1'), 0);
    cb();
  }

  private emitWith(text: string, at: number): void {
    this.done = true;
    this.push(Buffer.concat([Buffer.from(text.slice(0, at), 'latin1'), Buffer.from(this.insert, 'latin1'), Buffer.from(text.slice(at), 'latin1')]));
    this.buf = [];
  }
}

/** The message stream with the banner applied (the stream itself when there is none). */
export function withDisclaimer(message: Readable, text: string | undefined): Readable {
  if (!text) return message;
  const splitter = new Splitter();
  const seen = { html: false, plain: false };
  const rewriter = new Rewriter((node) => {
    if (node.multipart || node.disposition === 'attachment') return false;
    const type = node.contentType || 'text/plain';
    const kind = type === 'text/html' ? 'html' : type === 'text/plain' ? 'plain' : undefined;
    if (!kind || seen[kind]) return false;
    seen[kind] = true;
    return true;
  });
  rewriter.on('node', ({ node, decoder, encoder }) => {
    const html = node.contentType === 'text/html';
    decoder.pipe(new Inserter(html ? htmlBanner(text) : `${text}\r\n\r\n`, html)).pipe(encoder);
  });
  const joiner = new Joiner();
  const fail = (err: Error): void => void joiner.destroy(err);
  message.on('error', fail);
  (splitter as unknown as Transform).on('error', fail);
  (rewriter as unknown as Transform).on('error', fail);
  // mailsplit's typings declare only its own events; the objects are ordinary Transforms.
  return message.pipe(splitter).pipe(rewriter).pipe(joiner) as unknown as Readable;
}
