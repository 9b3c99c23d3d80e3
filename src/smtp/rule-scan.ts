/**
 * @module smtp/rule-scan
 * What transport rules read from the message beyond the envelope: the header fields (parsed from the
 * header block the data guard emits; unfolded, names lower-cased, values as received — encoded words
 * are not decoded) and, only when an enabled rule needs it (subjectOrBodyContainsWords,
 * attachmentExtensionMatchesWords), a scan of the body streamed through @zone-eu/mailsplit off a tee
 * of the guard's output, never the whole message in memory: attachment file names are listed, and the
 * text of text/plain and text/html parts (base64 and quoted-printable decoded, UTF-8 or Latin-1, tags
 * stripped) is kept up to BODY_SCAN_CAP raw bytes in all — words past the cap are not seen.
 * Touches: nothing beyond the streams it is given.
 */
import { PassThrough, type Transform } from 'node:stream';
import mailsplit from '@zone-eu/mailsplit';
import type { DataGuard } from './data-guard.ts';

const { Splitter } = mailsplit;

/** Raw text-part bytes kept for rule conditions, per message (documented in README "Mail flow rules"). */
export const BODY_SCAN_CAP = 1024 * 1024;

export interface BodyScan {
  /** Decoded text of the text parts, lower-cased. */
  text: string;
  /** Attachment file names, lower-cased. */
  attachments: string[];
}

/** Header fields of a header block: [lower-case name, unfolded value]. */
export function parseHeaderBlock(block: Buffer | undefined): Array<[string, string]> {
  if (!block) return [];
  const out: Array<[string, string]> = [];
  for (const line of block.toString('utf8').split(/\r?\n/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) {
      const last = out[out.length - 1] as [string, string];
      last[1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return out;
}

function decodeQp(s: string): Buffer {
  const bytes: number[] = [];
  const t = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < t.length; i++) {
    const ch = t.charCodeAt(i);
    const hex = ch === 0x3d ? t.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(ch & 0xff);
  }
  return Buffer.from(bytes);
}

interface TextPart {
  encoding: string;
  charset: string;
  html: boolean;
  raw: Buffer[];
}

function partText(p: TextPart): string {
  const raw = Buffer.concat(p.raw).toString('latin1');
  const bytes = p.encoding === 'base64' ? Buffer.from(raw.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') : p.encoding === 'quoted-printable' ? decodeQp(raw) : Buffer.from(raw, 'latin1');
  const text = /^(iso-8859-1|latin1|windows-1252|us-ascii)$/.test(p.charset) ? bytes.toString('latin1') : bytes.toString('utf8');
  return (p.html ? text.replace(/<[^>]*>/g, ' ') : text).toLowerCase();
}

/** Start scanning the guard's output; resolves when the message has been read (or the scan failed: empty). */
export function startBodyScan(guard: DataGuard): Promise<BodyScan> {
  const tee = new PassThrough({ highWaterMark: 256 * 1024 });
  const splitter = new Splitter({ ignoreEmbedded: false, maxChildNodes: 1000 });
  const attachments: string[] = [];
  const parts: TextPart[] = [];
  let kept = 0;
  let current: TextPart | undefined;
  return new Promise<BodyScan>((resolve) => {
    const finish = (): void => resolve({ text: parts.map(partText).join('\n'), attachments });
    splitter.on('data', (chunk: { type: string; value?: Buffer; filename?: string | false; contentType?: string | false; disposition?: string | false; encoding?: string | false; charset?: string | false; multipart?: string | false }) => {
      if (chunk.type === 'node') {
        current = undefined;
        if (chunk.filename) attachments.push(String(chunk.filename).toLowerCase());
        const type = chunk.contentType || 'text/plain';
        if (!chunk.multipart && chunk.disposition !== 'attachment' && (type === 'text/plain' || type === 'text/html')) {
          current = { encoding: String(chunk.encoding || '7bit'), charset: String(chunk.charset || 'utf-8').toLowerCase(), html: type === 'text/html', raw: [] };
          parts.push(current);
        }
      } else if (chunk.type === 'body' && current && chunk.value && kept < BODY_SCAN_CAP) {
        const take = chunk.value.subarray(0, BODY_SCAN_CAP - kept);
        current.raw.push(Buffer.from(take));
        kept += take.length;
      }
    });
    // The typings declare only the 'data' event; it is a Transform like any other.
    const stream = splitter as unknown as Transform;
    stream.once('end', finish);
    // A message mailsplit cannot parse is scanned as far as it got; the tee keeps flowing either way.
    stream.once('error', () => {
      tee.unpipe(splitter);
      tee.resume();
      finish();
    });
    tee.pipe(splitter);
    guard.pipe(tee);
  });
}
