/**
 * @module smtp/data-guard.test
 * Tests for DataGuard: byte-identical pass-through, header stripping and extraction, every published
 * SMTP smuggling end-of-data variant, size/line/header limits; every case is fed split at every
 * byte position to prove chunk-boundary handling.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataGuard, type DataGuardOptions, type DataGuardResult } from './data-guard.ts';

const base: DataGuardOptions = {
  maxSize: 1 << 20,
  maxLineLength: 998,
  stripHeaders: (n) => n.startsWith('x-ms-exchange-organization-') || n === 'bcc',
};

async function run(chunks: Buffer[], opts: Partial<DataGuardOptions> = {}): Promise<{ out: Buffer; r: DataGuardResult }> {
  const g = new DataGuard({ ...base, ...opts });
  const parts: Buffer[] = [];
  g.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((resolve, reject) => {
    g.on('end', resolve);
    g.on('error', reject);
  });
  for (const c of chunks) g.write(c);
  g.end();
  await done;
  return { out: Buffer.concat(parts), r: g.result() };
}

/** Every way to feed `input`: whole, split in two at every position, one byte at a time. */
function splits(input: Buffer): Buffer[][] {
  const all: Buffer[][] = [[input]];
  for (let i = 1; i < input.length; i++) all.push([input.subarray(0, i), input.subarray(i)]);
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  all.push(bytes);
  return all;
}

/** Run every split and assert they all agree; returns the result of the whole-buffer run. */
async function runAll(input: string | Buffer, opts: Partial<DataGuardOptions> = {}): Promise<{ out: Buffer; r: DataGuardResult }> {
  const buf = typeof input === 'string' ? Buffer.from(input, 'binary') : input;
  const first = await run([buf], opts);
  for (const chunks of splits(buf)) {
    const got = await run(chunks, opts);
    const where = `split ${chunks.map((c) => c.length).join('+')}`;
    if (first.r.violation) {
      // how much was emitted before the violation depends on chunking; nothing else may
      assert.deepEqual({ ...got.r, bytesOut: 0 }, { ...first.r, bytesOut: 0 }, where);
    } else {
      assert.deepEqual(got.r, first.r, where);
      assert.ok(got.out.equals(first.out), where);
    }
  }
  return first;
}

const HEAD = 'From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: hello\r\nMessage-ID: <1@example.com>\r\n';

test('clean message passes byte-identical', async () => {
  const msg = HEAD + '\r\nline one\r\n\r\nline .. three\r\n';
  const { out, r } = await runAll(msg);
  assert.equal(out.toString('binary'), msg);
  assert.equal(r.violation, undefined);
  assert.equal(r.bytesIn, msg.length);
  assert.equal(r.bytesOut, msg.length);
  assert.equal(r.headerCount, 4);
  assert.equal(r.headersStripped, 0);
});

test('headerFrom, subject, messageId extraction (folded, first occurrence)', async () => {
  const msg =
    'Subject: hello\r\n  world \r\nFrom:\r\n "Alice" <alice@example.com>\r\nFrom: second@example.com\r\n' +
    'Message-ID:\r\n\t<abc@example.com>\r\n\r\nbody\r\n';
  const { r } = await runAll(msg);
  assert.equal(r.subject, 'hello  world');
  assert.equal(r.headerFrom, '"Alice" <alice@example.com>');
  assert.equal(r.messageId, '<abc@example.com>');
  assert.equal(r.headerCount, 4);
});

test('UTF-8 header values are decoded as UTF-8', async () => {
  const msg = Buffer.concat([Buffer.from('Subject: '), Buffer.from('héllo ✓'), Buffer.from('\r\n\r\nx\r\n')]);
  const { r } = await run([msg]);
  assert.equal(r.subject, 'héllo ✓');
});

test('stripped headers, folded continuation lines included; body unchanged', async () => {
  const body = 'X-MS-Exchange-Organization-AuthAs: Internal\r\nnot a header\r\n';
  const msg =
    'X-MS-Exchange-Organization-AuthAs: Internal\r\n' +
    HEAD +
    'x-ms-exchange-organization-scl: -1\r\n\tcontinued\r\n  more\r\nBcc: hidden@example.com\r\nX-Keep: yes\r\n\r\n' +
    body;
  const { out, r } = await runAll(msg);
  assert.equal(out.toString('binary'), HEAD + 'X-Keep: yes\r\n\r\n' + body);
  assert.equal(r.headersStripped, 3);
  assert.equal(r.headerCount, 5);
  assert.equal(r.bytesOut, out.length);
  assert.equal(r.headerFrom, 'Alice <alice@example.com>');
});

test('all headers stripped leaves just the separator', async () => {
  const { out, r } = await runAll('Bcc: x@y\r\n\r\nbody\r\n');
  assert.equal(out.toString('binary'), '\r\nbody\r\n');
  assert.equal(r.headerCount, 0);
});

test('"From :" first line (mbox-looking) is still seen as a header', async () => {
  const { r } = await run([Buffer.from('From : spoof@example.com\r\nSubject: s\r\n\r\nb\r\n')]);
  assert.equal(r.headerFrom, 'spoof@example.com');
  const s = await run([Buffer.from('From : spoof@example.com\r\nBcc: z\r\n\r\nb\r\n')]);
  assert.equal(s.out.toString(), 'From : spoof@example.com\r\n\r\nb\r\n');
});

test('message without body (no separator) passes, with and without stripping', async () => {
  const a = await runAll(HEAD);
  assert.equal(a.out.toString('binary'), HEAD);
  assert.equal(a.r.headerCount, 4);
  assert.equal(a.r.subject, 'hello');
  const b = await runAll(HEAD + 'Bcc: x@y\r\n');
  assert.equal(b.out.toString('binary'), HEAD);
  assert.equal(b.r.headersStripped, 1);
  const c = await runAll('Subject: no final crlf');
  assert.equal(c.out.toString('binary'), 'Subject: no final crlf');
  assert.equal(c.r.subject, 'no final crlf');
});

test('message with no headers and empty message', async () => {
  const a = await runAll('\r\nbody only\r\n');
  assert.equal(a.out.toString('binary'), '\r\nbody only\r\n');
  assert.equal(a.r.headerCount, 0);
  const b = await run([]);
  assert.equal(b.out.length, 0);
  assert.deepEqual(b.r, { bytesIn: 0, bytesOut: 0, headerCount: 0, headersStripped: 0, headerFroms: [] });
});

test('CRLF split across chunks is fine', async () => {
  const { out, r } = await run([Buffer.from(HEAD + '\r'), Buffer.from('\nbody\r'), Buffer.from('\n')]);
  assert.equal(r.violation, undefined);
  assert.equal(out.toString('binary'), HEAD + '\r\nbody\r\n');
});

const SMUGGLE = 'MAIL FROM:<admin@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nFrom: admin@example.com\r\n\r\nsmuggled\r\n';
const variants: Array<[string, string]> = [
  ['\n.\n', 'bare-lf'],
  ['\n.\r\n', 'bare-lf'],
  ['\r\n.\n', 'bare-lf'],
  ['\r.\r', 'bare-cr'],
  ['\r\n.\r', 'bare-cr'],
  ['\n.\r', 'bare-lf'],
  ['\r.\r\n', 'bare-cr'],
  ['\r.\n', 'bare-cr'],
  ['\n..\r\n', 'bare-lf'],
];
for (const [seq, want] of variants) {
  test(`smuggling end-of-data variant ${JSON.stringify(seq)} is flagged ${want}`, async () => {
    const msg = HEAD + '\r\nhello' + seq + SMUGGLE;
    const { out, r } = await runAll(msg);
    assert.equal(r.violation, want);
    assert.equal(r.bytesIn, msg.length);
    assert.ok(!out.toString('binary').includes('smuggled'));
  });
  test(`smuggling variant ${JSON.stringify(seq)} inside the header block is flagged ${want}`, async () => {
    const { r } = await runAll('Subject: x' + seq + SMUGGLE);
    assert.equal(r.violation, want);
  });
}

test('bare CR and bare LF mid-line', async () => {
  assert.equal((await runAll(HEAD + '\r\nab\rcd\r\n')).r.violation, 'bare-cr');
  assert.equal((await runAll(HEAD + '\r\nab\ncd\r\n')).r.violation, 'bare-lf');
  assert.equal((await runAll('Subj\nect: x\r\n\r\n')).r.violation, 'bare-lf');
  assert.equal((await runAll('Subject: x\r\n\r\nbody ends in CR\r')).r.violation, 'bare-cr');
  assert.equal((await runAll('\n')).r.violation, 'bare-lf');
  assert.equal((await runAll('\r')).r.violation, 'bare-cr');
});

test('after a violation output stops but input is consumed and counted', async () => {
  const msg = HEAD + '\r\n' + 'x'.repeat(50) + '\n' + 'y'.repeat(5000) + '\r\n';
  const { r } = await run([Buffer.from(msg.slice(0, 200)), Buffer.from(msg.slice(200))]);
  assert.equal(r.violation, 'bare-lf');
  assert.equal(r.bytesIn, msg.length);
});

test('line length: exactly max passes, max+1 fails (body and headers)', async () => {
  const opts = { maxLineLength: 20 };
  assert.equal((await runAll('S: x\r\n\r\n' + 'a'.repeat(20) + '\r\n', opts)).r.violation, undefined);
  assert.equal((await runAll('S: x\r\n\r\n' + 'a'.repeat(21) + '\r\n', opts)).r.violation, 'line-too-long');
  assert.equal((await runAll('S: x\r\n\r\n' + 'a'.repeat(40), opts)).r.violation, 'line-too-long');
  assert.equal((await runAll('S: ' + 'a'.repeat(18) + '\r\n\r\nb\r\n', opts)).r.violation, 'line-too-long');
  assert.equal((await runAll('S: ' + 'a'.repeat(17) + '\r\n\r\nb\r\n', opts)).r.violation, undefined);
  // first violation by position wins, independent of chunking
  assert.equal((await runAll('S: x\r\n\r\n' + 'a'.repeat(30) + '\rb\r\n', opts)).r.violation, 'line-too-long');
  assert.equal((await runAll('S: x\r\n\r\nab\r' + 'a'.repeat(30) + '\r\n', opts)).r.violation, 'bare-cr');
  assert.equal((await runAll('S: x\r\n\r\n' + 'a'.repeat(21) + '\rb\r\n', opts)).r.violation, 'line-too-long');
});

test('size: exactly maxSize passes, one more byte fails', async () => {
  const msg = 'Subject: s\r\n\r\n' + 'body\r\n'.repeat(5);
  assert.equal((await runAll(msg, { maxSize: msg.length })).r.violation, undefined);
  const over = await runAll(msg + 'z', { maxSize: msg.length });
  assert.equal(over.r.violation, 'size');
  assert.equal(over.r.bytesIn, msg.length + 1);
  // an earlier violation within the limit wins over size
  assert.equal((await runAll('a\nb' + 'c'.repeat(30), { maxSize: 10 })).r.violation, 'bare-lf');
  assert.equal((await runAll('abc' + 'c'.repeat(30) + '\n', { maxSize: 10 })).r.violation, 'size');
});

test('header block too large (with and without separator)', async () => {
  const head = 'Subject: s\r\nX-A: ' + 'a'.repeat(50) + '\r\n\r\n';
  assert.equal((await runAll(head + 'body\r\n', { maxHeaderBytes: head.length })).r.violation, undefined);
  assert.equal((await runAll(head + 'body\r\n', { maxHeaderBytes: head.length - 1 })).r.violation, 'headers-too-large');
  assert.equal((await runAll('X: y\r\n'.repeat(20), { maxHeaderBytes: 60 })).r.violation, 'headers-too-large');
  const big = await run([Buffer.from('X-Big: ' + 'b'.repeat(300000) + '\r\n\r\nbody\r\n')], { maxLineLength: 1e6 });
  assert.equal(big.r.violation, 'headers-too-large');
});

test('large message in 64 KiB chunks is byte-identical and fast', async () => {
  const body = Buffer.alloc(8 << 20, 'abcdefghij0123456789'.repeat(3) + '\r\n');
  const msg = Buffer.concat([Buffer.from(HEAD + 'Bcc: x\r\n\r\n'), body]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < msg.length; i += 65536) chunks.push(msg.subarray(i, i + 65536));
  const t0 = process.hrtime.bigint();
  const { out, r } = await run(chunks, { maxSize: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(r.violation, undefined);
  assert.ok(out.equals(Buffer.concat([Buffer.from(HEAD + '\r\n'), body])));
  assert.ok(ms < 2000, `took ${ms} ms`);
});

test('against a real smtp-server: what onData receives, and smuggling stays inside DATA', async () => {
  const { SMTPServer } = await import('smtp-server');
  const { connect } = await import('node:net');
  const seen: Array<{ raw: Buffer; r: DataGuardResult }> = [];
  const srv = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, cb) {
      const raw: Buffer[] = [];
      stream.on('data', (b: Buffer) => raw.push(b));
      const g = new DataGuard(base);
      g.resume();
      stream.pipe(g).on('end', () => {
        const r = g.result();
        seen.push({ raw: Buffer.concat(raw), r });
        cb(r.violation ? Object.assign(new Error('5.5.2 bare LF/CR'), { responseCode: 550 }) : null);
      });
    },
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.server.address() as import('node:net').AddressInfo).port;
  const env = 'EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n';
  const script =
    env + HEAD + '\r\n..dot\r\nbody\r\n.\r\n' + env + HEAD + '\r\nhello\n.\n' + SMUGGLE + '.\r\nQUIT\r\n';
  const replies = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      if (!buf) s.write(script); // after the greeting, or smtp-server says "You talk too soon"
      buf += d.toString();
    });
    s.on('close', () => resolve(buf));
    s.on('error', reject);
  });
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  assert.equal(seen.length, 2, replies);
  // dot-unstuffed, CRLF before the final dot included, the dot line itself not
  assert.equal(seen[0]!.raw.toString('binary'), HEAD + '\r\n.dot\r\nbody\r\n');
  assert.equal(seen[0]!.r.violation, undefined);
  // "\n.\n" is content: the smuggled commands stay inside the first DATA
  assert.ok(seen[1]!.raw.toString('binary').endsWith('hello\n.\n' + SMUGGLE));
  assert.equal(seen[1]!.r.violation, 'bare-lf');
  assert.match(replies, /550 5\.5\.2 bare LF\/CR/);
  // one 354 per real DATA: the smuggled MAIL/RCPT/DATA never reached command mode
  assert.equal((replies.match(/^354 /gm) ?? []).length, 2, replies);
  assert.equal((replies.match(/^250 OK/gm) ?? []).length, 1, replies);
});

test('a NUL byte in the body or the header block is a violation, whatever the chunking', async () => {
  for (const [input, label] of [
    [HEAD + '\r\nhello\x00world\r\n', 'body'],
    [HEAD + 'X-Null: a\x00b\r\n\r\nbody\r\n', 'header'],
    [HEAD + '\r\n\x00\r\n', 'alone on a line'],
  ] as const) {
    const { r } = await runAll(input);
    assert.equal(r.violation, 'nul', label);
  }
  // the earliest violation wins: a bare LF before the NUL, and a NUL before a bare LF
  assert.equal((await runAll(HEAD + '\r\na\nb\x00c\r\n')).r.violation, 'bare-lf');
  assert.equal((await runAll(HEAD + '\r\na\x00b\nc\r\n')).r.violation, 'nul');
  assert.equal((await runAll(HEAD + '\r\nno nul here\r\n')).r.violation, undefined);
});

test('every From field is recorded, in order; headerFrom stays the first', async () => {
  const { r } = await runAll('From: a@outside.test\r\nFrom: "CEO" <ceo@example.com>\r\nSubject: s\r\n\r\nbody\r\n');
  assert.deepEqual(r.headerFroms, ['a@outside.test', '"CEO" <ceo@example.com>']);
  assert.equal(r.headerFrom, 'a@outside.test');
});
