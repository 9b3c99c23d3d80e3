import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { editHeaderSection, headerEditsOf, withHeaderEdits } from './header-edit.ts';

const msg = 'Received: from a\r\nSubject: Hello\r\nX-Internal-Only: 1\r\nX-Tag: old\r\n  folded\r\nFrom: a@b.c\r\n\r\nbody line\r\nX-Tag: not a header\r\n';

async function collect(r: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

test('set overwrites every field (folded ones too), remove drops, subject is prefixed; the body is untouched', async () => {
  const edits = [
    { op: 'prepend-subject', text: '[EXTERNAL] ' },
    { op: 'set', name: 'X-Tag', value: 'new' },
    { op: 'remove', name: 'x-internal-only' },
  ] as const;
  // One byte at a time: the header end may fall across chunks.
  const src = Readable.from([...Buffer.from(msg)].map((b) => Buffer.from([b])));
  const out = await collect(withHeaderEdits(src, edits));
  assert.equal(out, 'Received: from a\r\nSubject: [EXTERNAL] Hello\r\nFrom: a@b.c\r\nX-Tag: new\r\n\r\nbody line\r\nX-Tag: not a header\r\n');
});

test('non-ASCII values become RFC 2047 encoded words; a missing Subject is added; CR/LF never reach a value', () => {
  const out = editHeaderSection('From: a@b.c\r\n', [
    { op: 'prepend-subject', text: 'Extérieur:' },
    { op: 'set', name: 'X-Note', value: 'a\r\nBcc: evil@x.y' },
  ]);
  assert.equal(out, 'From: a@b.c\r\nSubject: =?UTF-8?B?RXh0w6lyaWV1cjo=?=\r\nX-Note: a Bcc: evil@x.y\r\n');
});

test('no edits: the same stream; malformed stored edits are ignored', async () => {
  const src = Readable.from([Buffer.from(msg)]);
  assert.equal(withHeaderEdits(src, []), src);
  assert.deepEqual(headerEditsOf({ headerEdits: [{ op: 'set', name: 1 }, { op: 'remove', name: 'X' }, 'x'] }), [{ op: 'remove', name: 'X' }]);
  assert.deepEqual(headerEditsOf({}), []);
});
