/**
 * @module test/daemon/limits-link.test
 * The primary's side of the limits link, driven as a worker's channel would drive it: counts are
 * shared by every worker, a release frees a slot, a worker that exits gives back every connection
 * it held (a killed worker must not leave its clients counted forever), and the AUTH throttle
 * answers across workers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { LimitsServer, type LimitsChannel } from '../../src/daemon/limits-link.ts';
import { AuthThrottle } from '../../src/smtp/auth-throttle.ts';

class FakeWorker extends EventEmitter implements LimitsChannel {
  answers = new Map<number, unknown>();
  send(m: { n: number; r: unknown }, cb: (err: Error | null) => void): boolean {
    this.answers.set(m.n, m.r);
    cb(null);
    return true;
  }
  isConnected(): boolean {
    return true;
  }
}

const S = { maxConnectionsPerClient: 2, maxConnectionRatePerClient: 0 };
const admit = (w: FakeWorker, n: number, ip = '192.0.2.1'): unknown => {
  w.emit('message', { mg: 'lim', n, op: 'admit', listener: 'mx', ip, s: S, now: 0 });
  return w.answers.get(n);
};

test('counts are shared by the workers; a release frees a slot; an exiting worker gives back what it held', () => {
  const server = new LimitsServer(new AuthThrottle(() => ({ ipFailures: 2, userFailures: 0, windowSeconds: 60, lockoutSeconds: 60 })));
  const a = new FakeWorker();
  const b = new FakeWorker();
  server.serve(a);
  server.serve(b);
  assert.equal(admit(a, 1), null);
  assert.equal(admit(b, 1), null);
  assert.equal(admit(a, 2), 'count', 'two open across the workers');
  b.emit('message', { mg: 'lim', n: 0, op: 'release', listener: 'mx', ip: '192.0.2.1' });
  assert.equal(admit(a, 3), null);
  assert.equal(admit(b, 4), 'count');
  a.emit('exit'); // a held two
  assert.equal(admit(b, 5), null);
  assert.equal(admit(b, 6), null);
  assert.equal(admit(b, 7), 'count');
});

test('AUTH failures counted on one worker lock the IP on another', () => {
  const server = new LimitsServer(new AuthThrottle(() => ({ ipFailures: 2, userFailures: 0, windowSeconds: 60, lockoutSeconds: 60 })));
  const a = new FakeWorker();
  const b = new FakeWorker();
  server.serve(a);
  server.serve(b);
  a.emit('message', { mg: 'lim', n: 1, op: 'failure', ip: '192.0.2.9', user: 'u', now: 1000 });
  assert.equal(a.answers.get(1), null);
  b.emit('message', { mg: 'lim', n: 1, op: 'failure', ip: '192.0.2.9', user: 'u', now: 1000 });
  assert.deepEqual(b.answers.get(1), { scope: 'ip', until: 61_000 });
  a.emit('message', { mg: 'lim', n: 2, op: 'check', ip: '192.0.2.9', user: 'u', now: 2000 });
  assert.deepEqual(a.answers.get(2), { scope: 'ip', until: 61_000 });
});
