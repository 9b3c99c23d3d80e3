import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { withDisclaimer } from './disclaimer.ts';

async function collect(r: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

const B = 'xyz';
const msg = [
  'From: a@example.net',
  'Subject: hi',
  'MIME-Version: 1.0',
  `Content-Type: multipart/mixed; boundary="${B}"`,
  '',
  `--${B}`,
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('hello plain\r\n').toString('base64'),
  `--${B}`,
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<html><body class=3D"x"><p>hello html</p></body></html>',
  `--${B}`,
  'Content-Type: text/plain',
  'Content-Disposition: attachment; filename="notes.txt"',
  '',
  'attached text',
  `--${B}--`,
  '',
].join('\r\n');

test('the banner goes first in the text and after <body> in the HTML, encodings kept, attachments untouched', async () => {
  const out = await collect(withDisclaimer(Readable.from([Buffer.from(msg)]), 'CAUTION: <external> sender'));
  const plainB64 = /Content-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--xyz/.exec(out)?.[1] ?? '';
  assert.equal(Buffer.from(plainB64.replace(/\s/g, ''), 'base64').toString('utf8'), 'CAUTION: <external> sender\r\n\r\nhello plain\r\n');
  assert.match(out.replace(/=\r\n/g, ''), /<body class=3D"x"><div style=3D"[^"]*">CAUTION: &#60;external&#62; sender<\/div><p>hello html/);
  assert.match(out, /filename="notes.txt"\r\n\r\nattached text\r\n--xyz--/);
  assert.match(out, /^From: a@example.net\r\nSubject: hi\r\n/);
});

test('no disclaimer: the stream itself', () => {
  const src = Readable.from([Buffer.from(msg)]);
  assert.equal(withDisclaimer(src, undefined), src);
});
