/**
 * End to end: the SMTP protocol defences of the receive side against a real `mailgate serve` on
 * loopback, driven by a raw scripted client: SMTP smuggling (CVE-2023-51764 class: every
 * published end-of-data variant, bare LF and bare CR), commands pipelined behind STARTTLS, the
 * listener limits (message size, SIZE=, line length, command length, recipients, errors, idle
 * time), a bounded connection flood, a slow client, and forged X-Mailgate-* headers.
 * Every refusal is checked for its exact reply (reply table, src/smtp/replies.ts), its trace id,
 * that nothing refused reached the next hop (a sink), and that the session stays usable.
 * Touches: loopback sockets (127.0.0.x), a temp data dir, the gateway child process it starts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { SmtpTestClient, message, type Reply } from '../helpers/smtp-client.ts';
import { type Sink, type SunkMessage } from '../helpers/sink.ts';
import { startMxGateway, type MxGateway } from '../helpers/gateway.ts';
import { REPLIES, type ReplyKey } from '../../src/smtp/replies.ts';

const LIMITS = { maxMessageSize: 20_000, maxLineLength: 1000, maxRecipients: 5, maxErrors: 5, idleTimeoutSeconds: 2 };
const TRACE_ID = /\[[0-9A-Z]+@[^\]\s]+\]$/;
const FROM = 'bob@contoso.test';
const RCPT = 'user@example.com';

let mg: MxGateway;
let sink: Sink;
let port = 0;
/** Subjects the gateway accepted (250) and must deliver exactly once. */
const accepted = new Set<string>();
/** Markers of content the gateway refused: none may ever reach the sink. */
const refusedMarkers: string[] = ['smuggled-', 'ceo@example.com', 'victim@example.com'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(50);
  }
}

function subjectOf(m: SunkMessage): string | undefined {
  return /^Subject: (.*)$/m.exec(m.raw)?.[1];
}

function delivered(subject: string): SunkMessage[] {
  return sink.messages.filter((m) => subjectOf(m) === subject);
}

/** The reply expected from the table, without its trace id: "550 5.5.2 Error: ...". */
function expected(key: ReplyKey, vars: Record<string, string> = {}): string {
  const r = REPLIES[key];
  return `${r.code} ${r.enhanced} ${r.text.replace(/\{([a-z]+)\}/g, (_m, k: string) => vars[k] ?? '')}`;
}

/** Assert a refusal: exact table reply plus the trace id tag. */
function refusedWith(r: Reply, key: ReplyKey, vars: Record<string, string> = {}, msg = ''): void {
  assert.equal(r.lines.length, 1, `${msg}: one line expected: ${r.text}`);
  assert.equal(r.code, REPLIES[key].code, `${msg}: ${r.text}`);
  assert.ok(r.text.startsWith(expected(key, vars) + ' ['), `${msg}: got ${JSON.stringify(r.text)}, want ${JSON.stringify(expected(key, vars))} [id@host]`);
  assert.match(r.text, TRACE_ID, `${msg}: reply carries the trace id`);
}

async function session(localAddress = '127.0.0.2'): Promise<SmtpTestClient> {
  const c = await SmtpTestClient.connect({ port, localAddress });
  assert.equal(c.greeting.code, 220, c.greeting.text);
  const ehlo = await c.cmd('EHLO client.test');
  assert.equal(ehlo.code, 250, ehlo.text);
  return c;
}

/** Open a transaction up to the 354. */
async function openData(c: SmtpTestClient, rcpts: string[] = [RCPT]): Promise<void> {
  assert.equal((await c.cmd(`MAIL FROM:<${FROM}>`)).code, 250);
  for (const r of rcpts) assert.equal((await c.cmd(`RCPT TO:<${r}>`)).code, 250);
  const d = await c.cmd('DATA');
  assert.equal(d.code, 354, d.text);
}

/** After a refusal: a clean message on the same connection is accepted (and, unless told not to wait, delivered exactly once). */
async function stillUsable(c: SmtpTestClient, subject: string, waitDelivery = true): Promise<void> {
  const r = await c.sendMail(FROM, [RCPT], message({ from: FROM, to: RCPT, subject }));
  assert.equal(r.eod?.code, 250, `clean message after a refusal: ${r.eod?.text ?? r.mail.text}`);
  assert.match(r.eod?.text ?? '', /^250 2\.0\.0 Ok: queued as [0-9A-Z]+$/);
  accepted.add(subject);
  if (!waitDelivery) return;
  await waitFor(() => delivered(subject).length > 0);
  assert.equal(delivered(subject).length, 1, `${subject} delivered once`);
}

/** No reply is pending: the next command's reply is the next reply (HELP answers 214, nothing else does). */
async function noStrayReply(c: SmtpTestClient): Promise<void> {
  await sleep(200);
  const h = await c.cmd('HELP');
  assert.equal(h.code, 214, `a stray reply was pending: ${h.text}`);
}

before(async () => {
  mg = await startMxGateway(
    { tls: { mode: 'starttls', requestClientCert: false }, maxConnections: 1000, ...LIMITS },
    { inboundConnectors: [{ name: 'Printers', connectorType: 'Partner', senderIPAddresses: ['127.0.0.10/32'], senderDomains: ['example.com'] }] },
  );
  ({ sink, port } = mg);
});

after(async () => {
  await mg?.stop();
});

const SMUGGLE_VARIANTS: Array<[string, ReplyKey]> = [
  ['\n.\n', 'bare-lf'],
  ['\n.\r\n', 'bare-lf'],
  ['\r\n.\n', 'bare-lf'],
  ['\r.\r\n', 'bare-cr'],
  ['\r.\r', 'bare-cr'],
  ['\r\n.\r', 'bare-cr'],
  ['\n.\r', 'bare-lf'],
];

test('SMTP smuggling: every published end-of-data variant gets one 550 5.5.2, the smuggled transaction never runs', async () => {
  for (const [i, [eod, key]] of SMUGGLE_VARIANTS.entries()) {
    const label = JSON.stringify(eod);
    const c = await session();
    await openData(c);
    const head = message({ from: FROM, to: RCPT, subject: `carrier ${i}`, body: 'hello' }).replace(/\r\n$/, '');
    const smuggled =
      `MAIL FROM:<ceo@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n` +
      `From: <ceo@example.com>\r\nTo: <victim@example.com>\r\nSubject: smuggled-${i}\r\n\r\nwire the money\r\n`;
    c.write(head + eod + smuggled + '.\r\n');
    refusedWith(await c.reply(), key, {}, `variant ${label}`);
    await noStrayReply(c);
    await stillUsable(c, `clean after smuggling ${i}`);
    await c.quit();
    assert.equal(sink.messages.filter((m) => m.raw.includes(`smuggled-${i}`) || m.raw.includes(`carrier ${i}`)).length, 0, `variant ${label} reached the sink`);
  }
  assert.ok(!sink.messages.some((m) => m.from === 'ceo@example.com' || m.to.includes('victim@example.com')));
});

test('SMTP smuggling split across TCP segments: the same single refusal whatever the chunking', async () => {
  const subjects: string[] = [];
  for (const [i, [eod, key]] of SMUGGLE_VARIANTS.entries()) {
    const label = JSON.stringify(eod);
    const c = await session('127.0.0.7');
    await openData(c);
    const head = message({ from: FROM, to: RCPT, subject: `split carrier ${i}`, body: 'hello' }).replace(/\r\n$/, '');
    const rest = eod + `MAIL FROM:<ceo@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nSubject: smuggled-split-${i}\r\n\r\nx\r\n.\r\n`;
    // one segment boundary right after the first byte of the end-of-data variant, one after the dot
    c.write(head + rest.slice(0, 1));
    await sleep(20);
    c.write(rest.slice(1, eod.indexOf('.') + 1));
    await sleep(20);
    c.write(rest.slice(eod.indexOf('.') + 1));
    refusedWith(await c.reply(), key, {}, `split variant ${label}`);
    await noStrayReply(c);
    subjects.push(`clean after split smuggling ${i}`);
    await stillUsable(c, `clean after split smuggling ${i}`, false);
    await c.quit();
  }
  await waitFor(() => subjects.every((s) => delivered(s).length > 0));
  for (const s of subjects) assert.equal(delivered(s).length, 1, s);
  assert.ok(!sink.messages.some((m) => /smuggled-split|split carrier/.test(m.raw)));
});

test('bare LF and bare CR inside a line are refused with 550 5.5.2', async () => {
  const cases: Array<[string, ReplyKey]> = [
    ['hello\nworld', 'bare-lf'],
    ['hello\rworld', 'bare-cr'],
  ];
  for (const [i, [body, key]] of cases.entries()) {
    const c = await session();
    await openData(c);
    const h = message({ from: FROM, to: RCPT, subject: `bare ${i}`, body: 'x' }).replace(/x\r\n$/, '');
    c.write(h + body + '\r\n.\r\n');
    refusedWith(await c.reply(), key, {}, JSON.stringify(body));
    await noStrayReply(c);
    await stillUsable(c, `clean after bare ${i}`);
    await c.quit();
    assert.equal(delivered(`bare ${i}`).length, 0);
  }
});

/** Read from a plain socket until `re` matches the text received so far. */
function readUntil(sock: net.Socket, re: RegExp, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => {
      sock.off('data', on);
      reject(new Error(`timed out; got ${JSON.stringify(buf)}`));
    }, ms);
    const on = (d: Buffer): void => {
      buf += d.toString('latin1');
      if (re.test(buf)) {
        clearTimeout(t);
        sock.off('data', on);
        resolve(buf);
      }
    };
    sock.on('data', on);
  });
}

test('commands pipelined behind STARTTLS are discarded, not run inside TLS', async () => {
  const plain = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' }, () => resolve(s));
    s.once('error', reject);
  });
  try {
    await readUntil(plain, /^220 .*\r\n/m);
    plain.write('EHLO client.test\r\n');
    const ehlo = await readUntil(plain, /^250 .*\r\n/m);
    assert.match(ehlo, /STARTTLS/);
    plain.write('STARTTLS\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<user@example.com>\r\n');
    const ready = await readUntil(plain, /^220 .*\r\n/m);
    assert.equal(ready, '220 Ready to start TLS\r\n', 'nothing but the 220 in plaintext');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new SmtpTestClient(secure, 10_000);
    const e2 = await c.cmd('EHLO client.test');
    assert.equal(e2.code, 250, e2.text);
    const rcpt = await c.cmd('RCPT TO:<user@example.com>');
    assert.equal(rcpt.text, '503 Error: need MAIL command', 'the injected MAIL FROM must not have run');
    const data = await c.cmd('DATA');
    assert.equal(data.code, 503, data.text);
    await stillUsable(c, 'clean after starttls injection');
    const d = delivered('clean after starttls injection')[0];
    assert.equal(d?.from, FROM);
    assert.match(d?.raw ?? '', /with ESMTPS id/);
    await c.quit();
  } finally {
    plain.destroy();
  }
  assert.ok(!sink.messages.some((m) => m.from === 'evil@x.test'));
});

test('a message over maxMessageSize gets 552 5.3.4 at end of DATA; SIZE= over the limit is refused at MAIL', async () => {
  const c = await session();
  await openData(c);
  const line = 'y'.repeat(99);
  const body = Array.from({ length: 260 }, () => line).join('\r\n'); // ~26 KB
  c.write(message({ from: FROM, to: RCPT, subject: 'too big', body }) + '.\r\n');
  refusedWith(await c.reply(), 'message-too-big', { limit: String(LIMITS.maxMessageSize) });
  await noStrayReply(c);
  const sized = await c.cmd(`MAIL FROM:<${FROM}> SIZE=${LIMITS.maxMessageSize + 1}`);
  assert.equal(sized.code, 552, sized.text);
  console.log(`# SIZE= refusal (library reply): ${JSON.stringify(sized.text)}`);
  assert.equal((await c.cmd(`MAIL FROM:<${FROM}> SIZE=${LIMITS.maxMessageSize}`)).code, 250, 'SIZE= at the limit is fine');
  assert.equal((await c.cmd('RSET')).code, 250);
  await stillUsable(c, 'clean after too big');
  await c.quit();
  assert.equal(delivered('too big').length, 0);
});

test('a DATA line over maxLineLength gets 550 5.5.2; an over-long command gets a 5xx and the session goes on', async () => {
  const c = await session();
  await openData(c);
  c.write(message({ from: FROM, to: RCPT, subject: 'long line', body: 'z'.repeat(LIMITS.maxLineLength + 1) }) + '.\r\n');
  refusedWith(await c.reply(), 'line-too-long', { limit: String(LIMITS.maxLineLength) });
  await noStrayReply(c);
  // exactly maxLineLength is fine
  const okLine = await c.sendMail(FROM, [RCPT], message({ from: FROM, to: RCPT, subject: 'line at limit', body: 'z'.repeat(LIMITS.maxLineLength) }));
  assert.equal(okLine.eod?.code, 250, okLine.eod?.text);
  accepted.add('line at limit');
  // a 10 KB MAIL FROM
  const long = await c.cmd(`MAIL FROM:<${'a'.repeat(10_000)}@contoso.test>`);
  console.log(`# 10 KB MAIL FROM: ${JSON.stringify(long.text)}`);
  assert.ok(long.code >= 500 && long.code < 600, `10 KB MAIL FROM: ${long.text}`);
  await noStrayReply(c);
  await stillUsable(c, 'clean after long command');
  await c.quit();
  assert.equal(delivered('long line').length, 0);
  // past the parser's command limit the library closes the session with a 421
  const c2 = await session();
  const huge = await c2.cmd(`MAIL FROM:<${'a'.repeat(20_000)}@contoso.test>`);
  console.log(`# 20 KB MAIL FROM: ${JSON.stringify(huge.text)}`);
  assert.ok(huge.code === 421 || (huge.code >= 500 && huge.code < 600), huge.text);
  await c2.quit();
  const after20k = await session();
  await stillUsable(after20k, 'clean after huge command');
  await after20k.quit();
});

test('the recipient past maxRecipients gets 452 4.5.3; the message goes to the first five', async () => {
  const c = await session();
  assert.equal((await c.cmd(`MAIL FROM:<${FROM}>`)).code, 250);
  const rcpts = Array.from({ length: 6 }, (_v, i) => `u${i}@example.com`);
  const replies: Reply[] = [];
  for (const r of rcpts) replies.push(await c.cmd(`RCPT TO:<${r}>`));
  for (const r of replies.slice(0, 5)) assert.equal(r.code, 250, r.text);
  refusedWith(replies[5] as Reply, 'too-many-recipients');
  assert.equal((await c.cmd('DATA')).code, 354);
  c.write(message({ from: FROM, to: RCPT, subject: 'five rcpts' }) + '.\r\n');
  assert.equal((await c.reply()).code, 250);
  accepted.add('five rcpts');
  // Before the wait for delivery: the listener's idle timeout (2 s) could close it meanwhile.
  await stillUsable(c, 'clean after rcpt limit');
  await c.quit();
  await waitFor(() => delivered('five rcpts').flatMap((m) => m.to).length >= 5);
  await sleep(200);
  const to = delivered('five rcpts').flatMap((m) => m.to);
  assert.deepEqual([...to].sort(), rcpts.slice(0, 5).sort(), 'each of the five exactly once, not the sixth');
});

test('after maxErrors refusals the next one is 421 4.7.0 and the connection closes', async () => {
  const c = await session();
  assert.equal((await c.cmd(`MAIL FROM:<${FROM}>`)).code, 250);
  for (let i = 0; i < LIMITS.maxErrors; i++) refusedWith(await c.cmd(`RCPT TO:<x${i}@outside.test>`), 'relay-denied', {}, `refusal ${i + 1}`);
  refusedWith(await c.cmd('RCPT TO:<x9@outside.test>'), 'too-many-errors');
  const next = await c.cmd('NOOP');
  assert.equal(next.code, 0, `connection must be closed, got ${next.text}`);
  assert.ok(c.isClosed);
  await c.quit();
});

test('an idle client is closed with a 421 after the idle timeout (2 s here)', async () => {
  const c = await SmtpTestClient.connect({ port, localAddress: '127.0.0.4', timeoutMs: 10_000 });
  const t0 = Date.now();
  const r = await c.reply();
  const took = Date.now() - t0;
  console.log(`# idle timeout (library reply): ${JSON.stringify(r.text)} after ${took} ms`);
  assert.equal(r.code, 421, r.text);
  // Not before the timeout; after it, with room for a machine busy with every other test file.
  assert.ok(took >= 1500 && took < 6000, `took ${took} ms`);
  await waitFor(() => c.isClosed, 3000);
  await c.quit();
});

test('a flood of 200 simultaneous connections: all accepted, all delivered exactly once, gateway still responsive', async () => {
  const N = 200;
  const t0 = Date.now();
  const results = await Promise.allSettled(
    Array.from({ length: N }, async (_v, i) => {
      const c = await SmtpTestClient.connect({ port, localAddress: `127.0.0.${100 + (i % 100)}`, timeoutMs: 20_000 });
      try {
        if (c.greeting.code !== 220) throw new Error(`greeting ${c.greeting.text}`);
        await c.cmd('EHLO flood.test');
        const r = await c.sendMail(FROM, [RCPT], message({ from: FROM, to: RCPT, subject: `flood ${i}` }));
        return r.eod?.code ?? r.mail.code;
      } finally {
        await c.quit();
      }
    }),
  );
  const codes = results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)));
  assert.deepEqual(codes.filter((x) => x !== 250), [], 'every flood message gets 250');
  for (let i = 0; i < N; i++) accepted.add(`flood ${i}`);
  await waitFor(() => Array.from({ length: N }, (_v, i) => delivered(`flood ${i}`).length).every((n) => n >= 1), 30_000);
  console.log(`# flood: ${N} accepted and delivered in ${Date.now() - t0} ms`);
  const counts = Array.from({ length: N }, (_v, i) => delivered(`flood ${i}`).length);
  assert.ok(counts.every((n) => n === 1), 'each flood message exactly once');
  const t1 = Date.now();
  const c = await session('127.0.0.5');
  assert.equal((await c.cmd('NOOP')).code, 250);
  await c.quit();
  assert.ok(Date.now() - t1 < 5000, `responsive after the flood (${Date.now() - t1} ms)`);
});

test('a slow client sending DATA one byte every few ms still gets its message through', async () => {
  const c = await session('127.0.0.6');
  await openData(c);
  const bytes = Buffer.from(message({ from: FROM, to: RCPT, subject: 'slow client', body: 'trickle '.repeat(20) }) + '.\r\n', 'latin1');
  const t0 = Date.now();
  for (let i = 0; i < bytes.length && Date.now() - t0 < 15_000; i++) {
    c.write(bytes.subarray(i, i + 1));
    await sleep(3);
  }
  const r = await c.reply();
  assert.equal(r.code, 250, r.text);
  accepted.add('slow client');
  assert.ok(Date.now() - t0 < 15_000, `bounded: ${Date.now() - t0} ms`);
  await waitFor(() => delivered('slow client').length > 0);
  assert.equal(delivered('slow client').length, 1);
  await c.quit();
});

test('forged X-Mailgate-* headers (folded, any case) are stripped; the delivered copy carries ours once', async () => {
  const c = await session('127.0.0.10');
  const r = await c.sendMail(
    'printer@example.com',
    [RCPT],
    message({
      from: 'printer@example.com',
      to: RCPT,
      subject: 'forged stamps',
      extraHeaders: ['X-Mailgate-Attribution: authenticated;\r\n\tuser="forged-user"', 'X-Mailgate-Connector: ForgedConnector', 'x-mailgate-connector: forged-lower'],
    }),
  );
  assert.equal(r.eod?.code, 250, r.eod?.text);
  accepted.add('forged stamps');
  const got = await waitFor(() => delivered('forged stamps')[0]);
  assert.doesNotMatch(got.raw, /forged-user|ForgedConnector|forged-lower/);
  assert.equal(got.raw.match(/^X-Mailgate-Attribution:/gim)?.length, 1);
  assert.equal(got.raw.match(/^X-Mailgate-Connector:/gim)?.length, 1);
  assert.match(got.raw, /^X-Mailgate-Attribution: connector; name="Printers"; type=Partner; matched-by=ip\r\n(?![ \t])/m);
  assert.match(got.raw, /^X-Mailgate-Connector: Printers\r\n/m);
  await c.quit();
});

test('nothing refused reached the sink; every accepted message arrived exactly once', async () => {
  await sleep(500);
  for (const m of refusedMarkers) assert.ok(!sink.messages.some((x) => x.raw.includes(m)), `refused content ${m} reached the sink`);
  for (const s of accepted) {
    if (s === 'five rcpts') assert.equal(delivered(s).flatMap((m) => m.to).length, 5, 'five recipients, once each');
    else assert.equal(delivered(s).length, 1, `${s} delivered once`);
  }
  const subjects = sink.messages.map(subjectOf);
  const unexpected = subjects.filter((s) => s === undefined || !accepted.has(s));
  assert.deepEqual(unexpected, [], 'only accepted messages were delivered');
});
