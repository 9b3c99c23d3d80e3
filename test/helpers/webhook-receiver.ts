/**
 * @module test/helpers/webhook-receiver
 * A webhook receiver on 127.0.0.1 for alert tests: every post's JSON body in arrival order,
 * answered 204; closed when the test ends.
 * Touches: one loopback port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export async function webhookReceiver(t: TestContext): Promise<{ url: string; posts: Array<Record<string, unknown>> }> {
  const posts: Array<Record<string, unknown>> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      posts.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, posts };
}
