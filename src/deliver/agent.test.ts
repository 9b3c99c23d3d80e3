/**
 * @module deliver/agent.test
 * The agent: routes read per request, one outcome per requested recipient in order, unrouted
 * recipients failed 5.4.4, pickup and SMTP groups in one request, never throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { silentLogger } from '../core/log.ts';
import type { Route } from '../config/schema.ts';
import type { DeliveryRequest } from '../queue/contract.ts';
import { createDeliveryAgent } from './agent.ts';

const ID = '01AGENTTEST0000000';
function request(recipients: string[], open: () => Readable = () => Readable.from([Buffer.from('Subject: t\r\n\r\nhi\r\n')])): DeliveryRequest {
  return {
    queueId: ID, mailFrom: '', recipients, attempt: 2,
    meta: { id: ID, receivedAt: 0, envelope: { mailFrom: '', rcptTo: recipients }, size: 0, prependHeaders: '', facts: {} },
    openMessage: open,
  };
}
const base = { port: 25, tls: 'opportunistic', pickupDir: 'pickup' } as const;

test('pickup + smtp + unrouted in one request; one outcome per recipient, in order', async () => {
  const received: string[][] = [];
  const server = new SMTPServer({
    authOptional: true, disableReverseLookup: true, logger: false,
    onData(stream, session, cb) { stream.resume(); stream.on('end', () => { received.push(session.envelope.rcptTo.map((r) => r.address)); cb(); }); },
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const data = mkdtempSync(join(tmpdir(), 'mailgate-agent-'));
  let calls = 0;
  const routes: Route[] = [
    { ...base, name: 'local', domains: ['local.test'], type: 'pickup' },
    { ...base, name: 'local2', domains: ['*.local.test'], type: 'pickup' },
    { ...base, name: 'hop', domains: ['contoso.com'], type: 'smtp', host: '127.0.0.1', port, tls: 'none' },
  ];
  const agent = createDeliveryAgent({ routes: () => { calls++; return routes; }, dataDir: data, hostname: 'gw.test', logger: silentLogger });
  const rcpts = ['a@contoso.com', 'x@nowhere.test', 'p@local.test', 'q@sub.local.test', 'a@contoso.com'];
  const out = await agent(request(rcpts));
  assert.deepEqual(out.map((o) => [o.rcpt, o.status]), [
    ['a@contoso.com', 'delivered'], ['x@nowhere.test', 'failed'], ['p@local.test', 'delivered'], ['q@sub.local.test', 'delivered'], ['a@contoso.com', 'delivered'],
  ]);
  assert.equal(out[1]?.enhanced, '5.4.4');
  assert.match(out[1]?.reply ?? '', /no route to domain/);
  assert.deepEqual(readdirSync(join(data, 'pickup')), [`${ID}.eml`], 'two pickup routes on one folder share one file');
  assert.match(readFileSync(join(data, 'pickup', `${ID}.eml`), 'utf8'), /^X-Mailgate-Envelope-From: <>\r\nX-Mailgate-Envelope-To: <p@local\.test>\r\nX-Mailgate-Envelope-To: <q@sub\.local\.test>\r\n/);
  assert.equal(received.length, 1);
  await agent(request(['b@contoso.com']));
  assert.equal(calls, 2, 'routes are read per request');
  await agent.close();
  await new Promise<void>((res) => server.close(() => res()));
});

test('an exception anywhere becomes deferred outcomes, never a throw', async () => {
  const agent = createDeliveryAgent({ routes: () => { throw new Error('config store gone'); }, dataDir: '/nonexistent', hostname: 'gw.test', logger: silentLogger });
  const out = await agent(request(['a@x.test', 'b@y.test']));
  assert.deepEqual(out.map((o) => [o.rcpt, o.status]), [['a@x.test', 'deferred'], ['b@y.test', 'deferred']]);
  assert.match(out[0]?.reply ?? '', /config store gone/);
  const throwing = createDeliveryAgent({
    routes: () => [{ ...base, name: 'p', domains: ['*'], type: 'pickup' }],
    dataDir: mkdtempSync(join(tmpdir(), 'mailgate-agent-')), hostname: 'gw.test', logger: silentLogger,
  });
  const out2 = await throwing(request(['a@x.test'], () => { throw new Error('spool unreadable'); }));
  assert.equal(out2[0]?.status, 'deferred');
  assert.match(out2[0]?.reply ?? '', /spool unreadable/);
  await agent.close();
  await throwing.close();
});

test('a message past the hop count limit fails 5.4.6 without a connection; within it, it is delivered', async () => {
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true, disableReverseLookup: true, logger: false,
    onConnect(_s, cb) { connections++; cb(); },
    onData(stream, _session, cb) { stream.resume(); stream.on('end', () => cb()); },
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const routes: Route[] = [{ ...base, name: 'hop', domains: ['*'], type: 'smtp', host: '127.0.0.1', port, tls: 'none' }];
  const agent = createDeliveryAgent({ routes: () => routes, hopCountLimit: () => 50, dataDir: '/nonexistent', hostname: 'gw.test', logger: silentLogger, mtaSts: false });
  const looping = request(['a@x.test', 'b@y.test']);
  looping.meta.facts = { hops: 51 };
  const out = await agent(looping);
  assert.deepEqual(out.map((o) => [o.status, o.enhanced]), [['failed', '5.4.6'], ['failed', '5.4.6']]);
  assert.match(out[0]?.reply ?? '', /mail forwarding loop: 51 Received headers exceed hopCountLimit 50/);
  assert.equal(connections, 0, 'nothing was sent');
  const fine = request(['a@x.test']);
  fine.meta.facts = { hops: 50 };
  assert.equal((await agent(fine))[0]?.status, 'delivered');
  await agent.close();
  await new Promise<void>((res) => server.close(() => res()));
});
