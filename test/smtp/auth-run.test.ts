/**
 * @module test/smtp/auth-run.test
 * smtp/auth-run's startAuth over the data guard, against a real DNS server on loopback: a message
 * without DKIM/ARC headers is evaluated from its header block alone, and its facts are the same as
 * those of the whole message evaluated as before (SPF, DKIM none, DMARC with each policy, several
 * From addresses, folded and stripped headers, a signature-looking line in the body); a signed or
 * sealed message, one that opens with the empty line and an empty one are evaluated whole. Each
 * message is fed whole, in 7-byte chunks and one byte at a time.
 * Touches: 127.0.0.1 sockets (the in-process DNS server).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { authenticate, createResolver, type AuthFacts, type CachingResolver } from '../../src/auth/index.ts';
import { compilePolicy, validateConfig } from '../../src/config/index.ts';
import { DataGuard } from '../../src/smtp/data-guard.ts';
import { startAuth, stripPredicate } from '../../src/smtp/auth-run.ts';
import type { Authenticator, SmtpDeps } from '../../src/smtp/deps.ts';
import { newConnState, type ConnState, type TxState } from '../../src/smtp/session.ts';
import { signDkim } from '../helpers/dkim.ts';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.ts';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let dns: TestDnsServer;
let resolver: CachingResolver;
before(async () => {
  dns = await startDnsServer({
    'contoso.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.contoso.example': { TXT: ['v=DMARC1; p=reject'] },
    'sel1._domainkey.contoso.example': { TXT: [`v=DKIM1; k=rsa; p=${pub}`] },
    '_dmarc.fabrikam.example': { TXT: ['v=DMARC1; p=quarantine; pct=50'] },
    'fabrikam.example': { TXT: ['v=spf1 -all'] },
  });
  resolver = createResolver({ servers: [dns.address], timeoutMs: 2000, tries: 1 });
});
after(() => dns.stop());

const config = validateConfig({
  acceptedDomains: [{ domainName: 'inside.example' }],
  receiveConnectors: [{ name: 'mx', port: 2525, role: 'mx' }],
});
const snapshot = { version: 1, config, policy: compilePolicy(config, 1) };

/** What the evaluator was handed: a buffer (and which bytes) or a stream. */
interface Seen {
  kind: 'buffer' | 'stream';
  bytes?: Buffer;
  /** Flagged as an unsigned header block (auth/ then skips mailauth's stream). */
  headerBlock?: boolean;
}

function depsWith(seen: Seen[]): SmtpDeps {
  const evaluator: Authenticator = (input) => {
    seen.push(Buffer.isBuffer(input.message) ? { kind: 'buffer', bytes: input.message, headerBlock: input.unsignedHeaderBlock === true } : { kind: 'stream' });
    return authenticate(input, { resolver: resolver.resolve });
  };
  // startAuth reads only these members; the acceptor, trace and logger belong to other stages.
  const partial: Pick<SmtpDeps, 'snapshot' | 'hostname' | 'authenticate'> = { snapshot: () => snapshot, hostname: 'mx.mailgate.test', authenticate: evaluator };
  return partial as unknown as SmtpDeps;
}

const conn = (clientIp: string): ConnState => ({
  ...newConnState({ connectionId: 'c1', listener: 'mx', clientIp, clientPort: 40000, connectedAt: 0, tls: false }),
  helo: 'mail.contoso.example',
});
const tx = (mailFrom: string): TxState => ({ id: 'T1', startedAt: 0, mailFrom, rcpts: ['u@inside.example'], attribution: undefined, events: [], lastReply: undefined, reasons: [] });

/** Feed `raw` through a guard into a sink in `chunks`-byte pieces; returns the facts, what the guard emitted, and what the evaluator got. */
async function through(raw: Buffer, chunk: number, clientIp: string, mailFrom: string): Promise<{ facts: AuthFacts; out: Buffer; seen: Seen[]; deps: SmtpDeps }> {
  const seen: Seen[] = [];
  const deps = depsWith(seen);
  const guard = new DataGuard({ maxSize: 1 << 20, maxLineLength: 998, stripHeaders: stripPredicate(deps) });
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(b: Buffer, _e, cb) {
      parts.push(b);
      setImmediate(cb); // a spool writer answers later, not synchronously
    },
  });
  const written = new Promise<void>((resolve) => sink.once('finish', () => resolve()));
  guard.pipe(sink);
  const auth = startAuth(deps, conn(clientIp), tx(mailFrom), guard);
  assert.ok(auth, 'evaluated');
  const pieces: Buffer[] = [];
  for (let i = 0; i < raw.length; i += chunk) pieces.push(raw.subarray(i, i + chunk));
  Readable.from(pieces.length ? pieces : [Buffer.alloc(0)]).pipe(guard);
  const [facts] = await Promise.all([auth, written]);
  return { facts, out: Buffer.concat(parts), seen, deps };
}

/** The facts of the whole guarded message, evaluated as one stream (the way every message was before). */
async function whole(out: Buffer, clientIp: string, mailFrom: string): Promise<AuthFacts> {
  return authenticate({ message: Readable.from([out]), clientIp, helo: 'mail.contoso.example', mailFrom, mta: 'mx.mailgate.test', isAcceptedDomain: (d) => d === 'inside.example' }, { resolver: resolver.resolve });
}

const comparable = (f: AuthFacts): Omit<AuthFacts, 'elapsedMs'> => {
  const { elapsedMs: _e, ...rest } = f;
  return rest;
};

const BODY = 'Hello.\r\nDKIM-Signature: v=1; this line is body text, not a header\r\n\r\nARC-Seal: also body\r\n';
const unsigned: Array<[string, string, string, string]> = [
  // name, client IP, MAIL FROM, message
  ['DMARC reject, SPF fails', '198.51.100.7', 'a@contoso.example', `From: Alice <alice@contoso.example>\r\nTo: u@inside.example\r\nSubject: hi\r\n\r\n${BODY}`],
  ['DMARC pass via SPF', '192.0.2.10', 'a@contoso.example', `From: alice@contoso.example\r\nSubject: hi\r\n\r\n${BODY}`],
  ['DMARC quarantine pct', '198.51.100.7', 'b@fabrikam.example', `Subject: hi\r\nFrom: "Bob" <bob@fabrikam.example>\r\n\r\n${BODY}`],
  ['several From addresses', '192.0.2.10', 'a@contoso.example', `From: a@contoso.example, b@fabrikam.example\r\n\r\n${BODY}`],
  ['folded From, stripped header', '198.51.100.7', 'a@contoso.example', `X-Mailgate-Attribution: forged\r\nFrom: Alice\r\n <alice@contoso.example>\r\nX-Mailgate-Trace: x\r\n  y\r\n\r\n${BODY}`],
  ['no From at all', '198.51.100.7', 'a@contoso.example', `Subject: none\r\n\r\n${BODY}`],
  ['headers only, no separator', '198.51.100.7', 'a@contoso.example', 'From: alice@contoso.example\r\nSubject: short\r\n'],
  ['null sender', '198.51.100.7', '', `From: alice@contoso.example\r\n\r\n${BODY}`],
];

for (const [name, ip, from, text] of unsigned) {
  test(`unsigned (${name}): evaluated from the header block alone, same facts as the whole message`, async () => {
    const raw = Buffer.from(text, 'latin1');
    for (const chunk of [raw.length || 1, 7, 1]) {
      const { facts, out, seen } = await through(raw, chunk, ip, from);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.kind, 'buffer', `chunk ${chunk}: header block handed over`);
      assert.equal(seen[0]?.headerBlock, true, 'flagged as an unsigned header block');
      const bytes = seen[0]?.bytes ?? Buffer.alloc(0);
      assert.ok(out.subarray(0, bytes.length).equals(bytes), 'the bytes handed over are the start of what was spooled');
      const sep = out.indexOf('\r\n\r\n');
      assert.equal(bytes.length, sep < 0 ? out.length : sep + 4, 'exactly the header block, separator included');
      assert.deepEqual(comparable(facts), comparable(await whole(out, ip, from)), `chunk ${chunk}`);
    }
  });
}

test('the outcomes the comparison covers are the interesting ones (a reject, a pass, a quarantine, a permerror)', async () => {
  const results: string[] = [];
  for (const [, ip, from, text] of unsigned.slice(0, 4)) results.push((await through(Buffer.from(text, 'latin1'), 64, ip, from)).facts.dmarc.result);
  assert.deepEqual(results, ['fail', 'pass', 'fail', 'permerror']);
});

test('a DKIM-signed message is streamed whole to the evaluator and its signature verifies', async () => {
  const raw = await signDkim(Buffer.from(`From: alice@contoso.example\r\nTo: u@inside.example\r\nSubject: signed\r\n\r\n${BODY}`), {
    domain: 'contoso.example',
    selector: 'sel1',
    privateKey: priv,
  });
  for (const chunk of [raw.length, 7]) {
    const { facts, out, seen } = await through(raw, chunk, '198.51.100.7', 'a@contoso.example');
    assert.deepEqual(seen.map((s) => s.kind), ['stream']);
    assert.ok(out.equals(raw));
    assert.equal(facts.dkim[0]?.result, 'pass', `chunk ${chunk}: ${facts.authResultsHeader}`);
    assert.equal(facts.dmarc.result, 'pass');
    assert.deepEqual(comparable(facts), comparable(await whole(out, '198.51.100.7', 'a@contoso.example')));
  }
});

test('a folded, lower-case dkim-signature or an ARC header anywhere in the header block means the whole message', async () => {
  const cases = [
    // \v before the name: mailauth trims it (String.trim) and verifies the signature, so this must not look unsigned
    `\vDKIM-Signature: v=1; a=rsa-sha256; d=contoso.example; s=sel1; h=from; bh=AAAA; b=BBBB\r\nFrom: alice@contoso.example\r\n\r\n${BODY}`,
    `Subject: x\r\nFrom: alice@contoso.example\r\ndkim-signature: v=1; a=rsa-sha256; d=contoso.example; s=sel1;\r\n\th=from; bh=AAAA; b=BBBB\r\n\r\n${BODY}`,
    `From: alice@contoso.example\r\nARC-Seal: i=1; a=rsa-sha256; cv=none; d=contoso.example; s=sel1; b=AAAA\r\n\r\n${BODY}`,
    `From: alice@contoso.example\r\nArc-Authentication-Results: i=1; mx.contoso.example; spf=pass\r\n\r\n${BODY}`,
  ];
  for (const text of cases) {
    const raw = Buffer.from(text, 'latin1');
    const { facts, out, seen } = await through(raw, 5, '198.51.100.7', 'a@contoso.example');
    assert.deepEqual(seen.map((s) => s.kind), ['stream'], text.slice(0, 60));
    assert.deepEqual(comparable(facts), comparable(await whole(out, '198.51.100.7', 'a@contoso.example')));
  }
  // the made-up signature is evaluated (and fails), so the whole path really ran
  const { facts } = await through(Buffer.from(cases[1] ?? '', 'latin1'), 64, '198.51.100.7', 'a@contoso.example');
  assert.equal(facts.dkim.length, 1);
  assert.notEqual(facts.dkim[0]?.result, 'pass');
});

test('a message that opens with the empty line, and an empty message, are evaluated whole as received', async () => {
  const opens = Buffer.from(`\r\nFrom: alice@contoso.example\r\n\r\nbody\r\n`, 'latin1');
  const a = await through(opens, 3, '198.51.100.7', 'a@contoso.example');
  assert.deepEqual(a.seen.map((s) => s.kind), ['stream']);
  assert.deepEqual(comparable(a.facts), comparable(await whole(a.out, '198.51.100.7', 'a@contoso.example')));
  const empty = await through(Buffer.alloc(0), 1, '198.51.100.7', 'a@contoso.example');
  assert.deepEqual(empty.seen.map((s) => s.kind), ['buffer']);
  assert.equal(empty.seen[0]?.bytes?.length, 0);
  assert.equal(empty.seen[0]?.headerBlock, false, 'no header block: not flagged');
  assert.equal(empty.facts.dmarc.result, 'none');
});

test('a signature hidden behind a \\v is still verified against the body: a replayed signature over another body does not pass', async () => {
  // Signed with an empty body; the attacker hides the DKIM-Signature name behind \v and adds a body.
  const signed = await signDkim(Buffer.from('From: alice@contoso.example\r\nSubject: empty\r\n\r\n'), { domain: 'contoso.example', selector: 'sel1', privateKey: priv });
  assert.match(signed.toString('latin1'), /^DKIM-Signature:/);
  const forged = Buffer.concat([Buffer.from('\v'), signed, Buffer.from('Please wire the money today.\r\n')]);
  const { facts, seen } = await through(forged, 64, '198.51.100.7', 'a@contoso.example');
  assert.deepEqual(seen.map((s) => s.kind), ['stream'], 'evaluated whole');
  assert.notEqual(facts.dkim[0]?.result, 'pass', facts.authResultsHeader);
  assert.notEqual(facts.dmarc.result, 'pass');
});
