import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook, signBody } from './webhook.ts';

test('a post refused with 500 is retried with backoff; the signature is the HMAC-SHA256 of the exact body', async () => {
  const got: Array<{ body: string; sig: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      got.push({ body, sig: String(req.headers['x-mailgate-signature']) });
      res.writeHead(got.length < 3 ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const r = await postWebhook(url, 'k'.repeat(20), { kind: 'new-source', summary: 'ünïcode "quoted"' }, { tries: 4, backoffMs: 10 });
    assert.deepEqual(r, { ok: true, tries: 3, last: 'HTTP 204' });
    assert.equal(got.length, 3);
    for (const g of got) assert.equal(g.sig, `sha256=${createHmac('sha256', 'k'.repeat(20)).update(Buffer.from(g.body, 'utf8')).digest('hex')}`);
    assert.equal(signBody(got[0]?.body ?? '', 'k'.repeat(20)), got[0]?.sig);
    const down = await postWebhook('http://127.0.0.1:1/', 'k'.repeat(20), {}, { tries: 2, backoffMs: 10 });
    assert.equal(down.ok, false);
    assert.equal(down.tries, 2);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
