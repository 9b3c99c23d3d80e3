/**
 * @module deliver/pickup.test
 * Pickup delivery: envelope headers, byte-exact message, atomic appearance, no temp file left,
 * I/O errors deferred.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Route } from '../config/schema.ts';
import type { DeliveryRequest } from '../queue/contract.ts';
import { deliverPickup } from './pickup.ts';

const ID = '01PICKUPTEST000000';
const route: Route = { name: 'local', domains: ['*'], type: 'pickup', port: 25, tls: 'opportunistic', pickupDir: 'pickup' };

function request(open: () => Readable, recipients = ['a@x.test', 'b@y.test']): DeliveryRequest {
  return {
    queueId: ID, mailFrom: 'sender@s.test', recipients, attempt: 1,
    meta: { id: ID, receivedAt: 0, envelope: { mailFrom: 'sender@s.test', rcptTo: recipients }, size: 0, prependHeaders: '', facts: {} },
    openMessage: open,
  };
}

test('writes one .eml with envelope headers, then the message byte for byte', async () => {
  const data = mkdtempSync(join(tmpdir(), 'mailgate-pickup-'));
  const message = 'Received: by mailgate\r\nSubject: hi\r\n\r\nbody \u00e9\r\n';
  const out = await deliverPickup(route, data, request(() => Readable.from([Buffer.from(message)])), ['a@x.test', 'b@y.test']);
  const path = join(data, 'pickup', `${ID}.eml`);
  assert.deepEqual(out.map((o) => [o.rcpt, o.status, o.nextHop]), [['a@x.test', 'delivered', `pickup:${path}`], ['b@y.test', 'delivered', `pickup:${path}`]]);
  const expected = 'X-Mailgate-Envelope-From: <sender@s.test>\r\nX-Mailgate-Envelope-To: <a@x.test>\r\nX-Mailgate-Envelope-To: <b@y.test>\r\n' + message;
  assert.equal(readFileSync(path, 'utf8'), expected);
  assert.deepEqual(readdirSync(join(data, 'pickup')), [`${ID}.eml`]);
});

test('a watcher never sees a partial .eml: only the dot-temp exists while writing', async () => {
  const data = mkdtempSync(join(tmpdir(), 'mailgate-pickup-'));
  let release: () => void = () => undefined;
  const gate = new Promise<void>((res) => { release = res; });
  let seenWhileWriting: string[] = [];
  async function* slow(): AsyncGenerator<Buffer> {
    yield Buffer.from('Subject: slow\r\n\r\n');
    await gate;
    yield Buffer.from('rest\r\n');
  }
  const done = deliverPickup(route, data, request(() => Readable.from(slow())), ['a@x.test']);
  await new Promise((res) => setTimeout(res, 50));
  seenWhileWriting = readdirSync(join(data, 'pickup'));
  release();
  const out = await done;
  assert.deepEqual(seenWhileWriting, [`.${ID}.eml.tmp`]);
  assert.equal(out[0]?.status, 'delivered');
  assert.deepEqual(readdirSync(join(data, 'pickup')), [`${ID}.eml`]);
});

test('an I/O error defers with the error text and leaves no temp file', async () => {
  const data = mkdtempSync(join(tmpdir(), 'mailgate-pickup-'));
  writeFileSync(join(data, 'not-a-dir'), '');
  const blocked = await deliverPickup({ ...route, pickupDir: 'not-a-dir/pickup' }, data, request(() => Readable.from([Buffer.from('x\r\n')])), ['a@x.test']);
  assert.equal(blocked[0]?.status, 'deferred');
  assert.match(blocked[0]?.reply ?? '', /ENOTDIR|EEXIST/);
  const failing = new Readable({ read() { this.destroy(new Error('spool read failed')); } });
  const broken = await deliverPickup(route, data, request(() => failing), ['a@x.test']);
  assert.equal(broken[0]?.status, 'deferred');
  assert.match(broken[0]?.reply ?? '', /spool read failed/);
  assert.deepEqual(readdirSync(join(data, 'pickup')), []);
});

test('a pickupDir outside the data dir is refused at delivery (deferred, nothing written) unless allowed; files take pickupFileMode', async () => {
  const data = mkdtempSync(join(tmpdir(), 'mailgate-pickup-'));
  const msg = () => Readable.from([Buffer.from('Subject: x\r\n\r\nx\r\n')]);
  const escape: Route = { ...route, pickupDir: '../escaped' };
  const out = await deliverPickup(escape, join(data, 'inner'), request(msg), ['a@x.test']);
  assert.equal(out[0]?.status, 'deferred');
  assert.match(out[0]?.reply ?? '', /pickupDir must be a folder inside the data dir/);
  assert.deepEqual(readdirSync(data), []);
  const outside = join(data, 'readers');
  const absolute = await deliverPickup({ ...route, pickupDir: outside }, join(data, 'inner'), request(msg), ['a@x.test']);
  assert.equal(absolute[0]?.status, 'deferred');
  const allowed = await deliverPickup({ ...route, pickupDir: outside, pickupOutsideDataDir: true, pickupFileMode: '0640' }, join(data, 'inner'), request(msg), ['a@x.test']);
  assert.equal(allowed[0]?.status, 'delivered');
  assert.equal(statSync(join(outside, `${ID}.eml`)).mode & 0o777, 0o640);
  assert.equal(statSync(outside).mode & 0o777, 0o750);
  await deliverPickup(route, data, request(msg), ['a@x.test']);
  assert.equal(statSync(join(data, 'pickup', `${ID}.eml`)).mode & 0o777, 0o600, 'default 0600');
});
