/**
 * The notification a recipient gets (quarantine-notify.ts): sender, subject and reason escaped in
 * the HTML part and kept to one bounded line in the text part; a link per message, none for a
 * malware-class one; a null-sender-style auto-generated message (RFC 3834).
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNotice } from './quarantine-notify.ts';
import type { QuarantineItem } from './quarantine.ts';

const item = (id: string, subject: string, kind: QuarantineItem['reason']['kind']): QuarantineItem => ({
  id,
  receivedAt: 0,
  expiresAt: 0,
  reason: { kind, text: kind === 'malware' ? 'malware' : 'DMARC p=quarantine of "shop".test' },
  mailFrom: 'a@shop.test',
  headerFrom: '"Evil <b>" <a@shop.test>',
  subject,
  recipients: ['user@example.com'],
  attribution: 'anonymous-external',
  auth: { spf: '', dkim: '', dmarc: '', compauth: '' },
  size: 1,
});

function parts(raw: string): { text: string; html: string } {
  const blocks = [...raw.matchAll(/Content-Type: text\/(plain|html); charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/g)];
  const get = (t: string): string => Buffer.from((blocks.find((b) => b[1] === t)?.[2] ?? '').replace(/\r\n/g, ''), 'base64').toString('utf8');
  return { text: get('plain'), html: get('html') };
}

test('a notice escapes every untrusted string for HTML, keeps text to one line each, and links only what may be requested', () => {
  const raw = buildNotice(
    'quarantine@example.com',
    'user@example.com',
    [
      { item: item('Q1', '<script>alert(1)</script>\r\nBcc: x@evil.test', 'dmarc'), link: 'http://127.0.0.1:8025/quarantine/request/abc."def' },
      { item: item('Q2', 'invoice.exe', 'malware'), link: undefined },
    ],
    1_800_000_000_000,
  ).toString('latin1');
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  assert.match(head, /^Auto-Submitted: auto-generated$/m);
  assert.match(head, /^Subject: You have 2 quarantined message\(s\)$/m);
  assert.ok(!/Bcc/i.test(head), 'nothing of a message reaches the notice header');
  const { text, html } = parts(raw);
  assert.ok(!html.includes('<script>'));
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /&quot;Evil &lt;b&gt;&quot; &lt;a@shop.test&gt;/);
  assert.match(html, /href="http:\/\/127\.0\.0\.1:8025\/quarantine\/request\/abc\.&quot;def"/);
  assert.equal((html.match(/Request release/g) ?? []).length, 1, 'no link for the malware one');
  assert.match(text, /^Subject: <script>alert\(1\)<\/script>  Bcc: x@evil\.test\r$/m);
  assert.match(text, /cannot be requested \(malware\)/);
});
