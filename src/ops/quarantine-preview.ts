/**
 * @module ops/quarantine-preview
 * A safe look into a quarantined message for `quarantine show`: its header lines, a text preview
 * (the first text/plain part, else the first text/html part stripped to text), and its
 * attachments by name, type and size. The message is streamed through mailsplit; at most
 * PREVIEW_SCAN bytes of one text part are decoded, nothing is executed or rendered, and every
 * string returned is still untrusted (the CLI escapes for the terminal, the API returns JSON).
 * Touches: nothing (reads the stream it is given).
 * RFCs: RFC 2045 (transfer encodings), RFC 2046 (multipart), RFC 2183 (Content-Disposition).
 */
import type { Readable } from 'node:stream';
import mailsplit from '@zone-eu/mailsplit';

/** Encoded bytes of one text part read for the preview at most. */
const PREVIEW_SCAN = 64 * 1024;
/** Characters of preview returned at most. */
export const PREVIEW_CHARS = 2000;
/** Header bytes returned at most. */
const HEADER_BYTES = 32 * 1024;

export interface AttachmentInfo {
  name: string;
  type: string;
  /** Encoded size in bytes (base64 parts: about 3/4 of it once decoded). */
  size: number;
}

export interface MessagePreview {
  headers: string;
  text: string;
  /** Where the text came from: 'text/plain', 'text/html' (stripped) or 'none'. */
  textSource: 'text/plain' | 'text/html' | 'none';
  attachments: AttachmentInfo[];
}

interface Part {
  type: string;
  encoding: string;
  charset: string;
  attachment: boolean;
  name: string;
  size: number;
  chunks: Buffer[];
  kept: number;
}

/** Stream `message` (the stored message, without our prepended headers) into a preview. */
export async function previewMessage(message: Readable): Promise<MessagePreview> {
  const splitter = new mailsplit.Splitter();
  const parts: Part[] = [];
  let headers = '';
  let cur: Part | undefined;
  const done = new Promise<void>((resolve, reject) => {
    splitter.on('data', (chunk) => {
      if (chunk.type === 'node') {
        const node = chunk as unknown as NodeLike;
        if (node.root && headers === '') headers = node.getHeaders().subarray(0, HEADER_BYTES).toString('latin1');
        cur = node.multipart
          ? undefined
          : {
              type: (node.contentType || 'text/plain').toLowerCase(),
              encoding: (node.encoding || '7bit').toLowerCase(),
              charset: (node.charset || 'utf-8').toLowerCase(),
              attachment: node.disposition === 'attachment' || Boolean(node.filename),
              name: node.filename || '',
              size: 0,
              chunks: [],
              kept: 0,
            };
        if (cur) parts.push(cur);
      } else if (chunk.type === 'body' && cur && Buffer.isBuffer(chunk.value)) {
        cur.size += chunk.value.length;
        if (!cur.attachment && cur.type.startsWith('text/') && cur.kept < PREVIEW_SCAN) {
          const piece = chunk.value.subarray(0, PREVIEW_SCAN - cur.kept);
          cur.chunks.push(piece);
          cur.kept += piece.length;
        }
      }
    });
    const events = splitter as unknown as NodeJS.EventEmitter; // mailsplit's typings name only 'data'
    events.once('end', resolve);
    events.once('error', reject);
    message.on('error', reject);
  });
  message.pipe(splitter);
  await done;
  const plain = parts.find((p) => !p.attachment && p.type === 'text/plain');
  const html = parts.find((p) => !p.attachment && p.type === 'text/html');
  const source = plain ?? html;
  const decoded = source ? decodeText(source) : '';
  const text = source === html && !plain ? htmlToText(decoded) : decoded;
  return {
    headers,
    text: text.slice(0, PREVIEW_CHARS),
    textSource: plain ? 'text/plain' : html ? 'text/html' : 'none',
    attachments: parts.filter((p) => p.attachment).map((p) => ({ name: p.name, type: p.type, size: p.size })),
  };
}

interface NodeLike {
  root: boolean;
  multipart: string | false;
  contentType: string | false;
  encoding: string | false;
  charset: string | false;
  disposition: string | false;
  filename: string | false;
  getHeaders(): Buffer;
}

function decodeText(p: Part): string {
  const raw = Buffer.concat(p.chunks);
  const bytes = p.encoding === 'base64' ? Buffer.from(raw.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') : p.encoding === 'quoted-printable' ? decodeQp(raw.toString('latin1')) : raw;
  try {
    return new TextDecoder(p.charset, { fatal: false }).decode(bytes);
  } catch {
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes); // an unknown charset label
  }
}

function decodeQp(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft.charCodeAt(i);
    const hex = soft.slice(i + 1, i + 3);
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(c & 0xff);
  }
  return Buffer.from(out);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** HTML to plain text: scripts, styles and comments dropped, tags removed, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<(br|\/p|\/div|\/tr|\/li|\/h\d)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]+);/gi, (m, e: string) => {
      if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
    })
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n\n')
    .trim();
}
