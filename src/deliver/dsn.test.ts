/**
 * @module deliver/dsn.test
 * The bounce is a well-formed RFC 6522 multipart/report with an RFC 3464 delivery-status part.
 * mailparser is not installed, so the structure is checked with a small MIME splitter and regexes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BounceInfo } from '../queue/contract.ts';
import { buildBounce, rfc5322Date } from './dsn.ts';

const info: BounceInfo = {
  meta: { id: '01BOUNCETEST000000', receivedAt: Date.UTC(2024, 0, 2, 3, 4, 5), envelope: { mailFrom: 'alice@s.test', rcptTo: ['bad@x.test', 'gone@y.test'] }, size: 10, prependHeaders: '', facts: {} },
  failed: [
    { rcpt: 'bad@x.test', status: 'failed', code: 550, enhanced: '5.1.1', reply: '550 5.1.1 no such user', nextHop: 'smtp:mx.x.test:25' },
    { rcpt: 'gone@y.test', status: 'failed', enhanced: '4.4.1', reply: 'connection failed: ECONNREFUSED' },
  ],
  reportingMta: 'gw.example.com',
  originalHeaders: 'From: alice@s.test\nTo: bad@x.test\nSubject: Quarterly report\n',
  now: Date.UTC(2024, 0, 4, 0, 0, 0),
};

/** Split a raw message into headers and body at the first empty line. */
function split(raw: string): { head: string; body: string } {
  const i = raw.indexOf('\r\n\r\n');
  return { head: raw.slice(0, i), body: raw.slice(i + 4) };
}

/** The parts of a multipart body, each split into headers and body. */
function parts(raw: string): Array<{ head: string; body: string }> {
  const boundary = /boundary="([^"]+)"/.exec(raw)?.[1] ?? '';
  const body = split(raw).body;
  const end = body.indexOf(`\r\n--${boundary}--`);
  assert.ok(end > 0, 'closing boundary present');
  return body.slice(0, end).split(`--${boundary}\r\n`).slice(1).map((p) => split(p));
}

test('top-level headers: report type, RFC 3834 auto-reply, Date, Message-ID, To the sender', () => {
  const raw = buildBounce(info).toString('utf8');
  const { head } = split(raw);
  assert.match(head, /^From: Mail Delivery System <MAILER-DAEMON@gw\.example\.com>$/m);
  assert.match(head, /^To: <alice@s\.test>$/m);
  assert.match(head, /^Subject: Undelivered Mail Returned to Sender$/m);
  assert.match(head, /^Auto-Submitted: auto-replied$/m);
  assert.match(head, /^MIME-Version: 1\.0$/m);
  assert.match(head, /^Content-Type: multipart\/report; report-type=delivery-status;\r\n\tboundary="=_mailgate-report-[0-9a-f]+"$/m);
  assert.ok(head.split('\r\n').includes(`Date: ${rfc5322Date(info.now)}`));
  assert.equal(rfc5322Date(info.now), 'Thu, 04 Jan 2024 00:00:00 +0000');
  assert.match(head, /^Message-ID: <01BOUNCETEST000000\.[0-9a-f]+\.dsn@gw\.example\.com>$/m);
});

test('CRLF only, and a boundary that differs between bounces but not between identical inputs', () => {
  const raw = buildBounce(info).toString('utf8');
  assert.doesNotMatch(raw, /[^\r]\n/);
  const b1 = /boundary="([^"]+)"/.exec(raw)?.[1];
  const b2 = /boundary="([^"]+)"/.exec(buildBounce({ ...info, now: info.now + 1 }).toString('utf8'))?.[1];
  assert.notEqual(b1, b2);
  assert.equal(raw, buildBounce(info).toString('utf8'));
});

test('three parts: explanation, message/delivery-status with per-recipient Status, original headers', () => {
  const [text, status, headers, extra] = parts(buildBounce(info).toString('utf8'));
  assert.equal(extra, undefined);
  assert.match(text?.head ?? '', /^Content-Type: text\/plain; charset=utf-8$/m);
  assert.match(text?.body ?? '', /<bad@x\.test>: 5\.1\.1 \(the server mx\.x\.test said\): 550 5\.1\.1 no such user/);
  assert.match(text?.body ?? '', /<gone@y\.test>: 5\.4\.1/);
  assert.match(status?.head ?? '', /^Content-Type: message\/delivery-status$/m);
  const blocks = (status?.body ?? '').trim().split('\r\n\r\n');
  assert.equal(blocks.length, 3);
  assert.match(blocks[0] ?? '', /^Reporting-MTA: dns; gw\.example\.com$/m);
  assert.match(blocks[0] ?? '', /^Arrival-Date: Tue, 02 Jan 2024 03:04:05 \+0000$/m);
  assert.match(blocks[1] ?? '', /^Final-Recipient: rfc822; bad@x\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.x\.test\r\nDiagnostic-Code: smtp; 550 5\.1\.1 no such user$/);
  assert.match(blocks[2] ?? '', /^Final-Recipient: rfc822; gone@y\.test$/m);
  assert.match(blocks[2] ?? '', /^Status: 5\.4\.1$/m, 'an expired 4.x.x becomes 5.x.x with Action: failed');
  assert.doesNotMatch(blocks[2] ?? '', /Remote-MTA/);
  assert.match(headers?.head ?? '', /^Content-Type: text\/rfc822-headers; charset=utf-8$/m);
  assert.match(headers?.body ?? '', /^From: alice@s\.test\r\nTo: bad@x\.test\r\nSubject: Quarterly report\r\n/);
});

test('backscatter: the bounce quotes only the header fields, never text that follows them without a blank line', () => {
  const attack = 'From: alice@s.test\r\nSubject: hi\r\n\tfolded\r\nBuy cheap watches at evil.test!\r\nMore: spam\r\n' + 'x'.repeat(60_000);
  const raw = buildBounce({ ...info, originalHeaders: attack }).toString('utf8');
  const [, , headers] = parts(raw);
  assert.equal(headers?.body, 'From: alice@s.test\r\nSubject: hi\r\n\tfolded\r\n');
  assert.doesNotMatch(raw, /evil\.test|xxxxxxxx/);
  assert.doesNotMatch(raw, /message\/rfc822(?!-headers)/, 'no copy of the whole message');
  assert.ok(raw.length < 4096, `bounce is ${raw.length} bytes`);
});
