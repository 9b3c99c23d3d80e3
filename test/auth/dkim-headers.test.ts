/**
 * @module test/auth/dkim-headers.test
 * The direct DKIM step for an unsigned header block (auth/dkim-headers) gives what mailauth's own
 * dkimVerify() gives for the same block: headerFrom, envelopeFrom, results and the ARC data, over
 * header blocks that stress mailauth's header and address parsing; a block that does carry a
 * signature gets dkimVerify()'s result (its key is looked up).
 * Touches: nothing (no DNS is asked: the resolver throws if it is).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dkimVerify, type DNSResolver } from 'mailauth';
import { verifyUnsignedHeaderBlock } from '../../src/auth/dkim-headers.ts';

const noDns = (async () => {
  throw new Error('no DNS lookup expected for an unsigned header block');
}) as unknown as DNSResolver;

const blocks: Record<string, string> = {
  plain: 'From: <sender@bench.invalid>\r\nTo: <user@example.com>\r\nSubject: hi\r\n\r\n',
  'display name with a comma, two addresses': 'From: "Doe, Jane" <jane@contoso.example>, bob@fabrikam.example\r\nTo: u@example.com\r\n\r\n',
  'folded From': 'Subject: x\r\nFrom: Printer\r\n <scan@contoso.example>\r\n\r\n',
  'two From fields': 'From: a@one.example\r\nFrom: b@two.example\r\n\r\n',
  'group syntax': 'From: Team: a@contoso.example, b@contoso.example;\r\n\r\n',
  'encoded word': 'From: =?utf-8?B?w4RsaWNl?= <alice@contoso.example>\r\n\r\n',
  'no From': 'To: u@example.com\r\nSubject: none\r\n\r\n',
  'From without an address': 'From: undisclosed\r\n\r\n',
  'mixed-case name, odd spacing': 'fROM   :   <Mixed@Contoso.Example>\r\n\r\n',
  'no blank line after the headers': 'From: a@contoso.example\r\nSubject: headers only',
  // The data guard refuses bare LF, so SMTP never hands such a block over; checked anyway.
  'bare LF line ends': 'From: a@contoso.example\nTo: u@example.com\n\n',
  'one bare LF in a folded field': 'From: Printer\n <scan@contoso.example>\r\n\r\n',
  empty: '',
  'a line without a colon': 'From: a@contoso.example\r\nnot a header line\r\n\r\n',
  'Return-Path and no envelope sender': 'Return-Path: <bounce@contoso.example>\r\nFrom: a@contoso.example\r\n\r\n',
  'many Received fields': `${Array.from({ length: 25 }, (_, i) => `Received: from h${i}.example.net ([192.0.2.${i}])\r\n\tby mx.example.com; Tue, 24 Nov 2026 01:00:00 +0000\r\n`).join('')}From: <a@contoso.example>\r\n\r\n`,
};

async function both(block: Buffer, sender?: string): Promise<void> {
  const options = { resolver: noDns, ...(sender !== undefined ? { sender } : {}) };
  const want = await dkimVerify(block, options);
  const got = await verifyUnsignedHeaderBlock(block, options);
  // Every own property, the non-enumerable ones (headers, arc) included, with its flags.
  const own = (r: object): Record<string, PropertyDescriptor> => Object.getOwnPropertyDescriptors(r);
  assert.deepEqual(own(got), own(want));
}

for (const [name, text] of Object.entries(blocks)) {
  test(`unsigned header block, same as dkimVerify: ${name}`, async () => {
    await both(Buffer.from(text, 'latin1'), 'sender@bench.invalid');
    await both(Buffer.from(text, 'latin1'));
  });
}

test('a block with a DKIM-Signature gets dkimVerify\'s result: the signature is evaluated and its key looked up', async () => {
  const signed = Buffer.from(
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=contoso.example; s=sel1; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\nFrom: a@contoso.example\r\n\r\n',
  );
  const asked: string[] = [];
  const resolver = (async (name: string) => {
    asked.push(name);
    throw Object.assign(new Error('no such record'), { code: 'ENOTFOUND' });
  }) as unknown as DNSResolver;
  const want = await dkimVerify(signed, { resolver });
  const got = await verifyUnsignedHeaderBlock(signed, { resolver });
  assert.equal(got.results?.length, 1, 'the signature was evaluated');
  assert.deepEqual(
    got.results?.map((r) => r.status?.result),
    want.results?.map((r) => r.status?.result),
  );
  assert.deepEqual(asked, ['sel1._domainkey.contoso.example', 'sel1._domainkey.contoso.example']);
});
