/**
 * @module config/self-route.test
 * Which route host:port pairs reach one of our own listeners (a mail loop), loopback and
 * any-address aware; and that validateConfig refuses them with the route's path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, type ConfigInput } from './schema.ts';
import { selfRouteErrors, type LocalIdentity } from './self-route.ts';
import { validateConfig } from './load.ts';

const local: LocalIdentity = { addresses: ['127.0.0.1', '::1', '192.0.2.7', 'fe80::1'], names: ['gw1', 'mx.contoso.test'] };

function loops(host: string, bind: string, routePort = 25): boolean {
  const cfg = configSchema.parse({
    receiveConnectors: [{ name: 'mx', bind, port: 25 }],
    routes: [{ name: 'r', type: 'smtp', host, port: routePort }],
  } satisfies ConfigInput);
  return selfRouteErrors(cfg, local).length > 0;
}

test('a route to our own listener is a loop: same address, loopback, any-address, our names', () => {
  assert.equal(loops('127.0.0.1', '127.0.0.1'), true);
  assert.equal(loops('localhost', '127.0.0.1'), true);
  assert.equal(loops('localhost', '::1'), true);
  assert.equal(loops('127.0.0.1', '0.0.0.0'), true);
  assert.equal(loops('127.9.9.9', '0.0.0.0'), true, 'all of 127/8 is this machine');
  assert.equal(loops('::1', '::'), true);
  assert.equal(loops('[::1]', '::'), true);
  assert.equal(loops('::ffff:127.0.0.1', '0.0.0.0'), true);
  assert.equal(loops('192.0.2.7', '0.0.0.0'), true, 'an interface address');
  assert.equal(loops('192.0.2.7', '192.0.2.7'), true);
  assert.equal(loops('MX.contoso.test.', '0.0.0.0'), true, 'the organization host name');
  assert.equal(loops('gw1', '::'), true, 'the machine name');
});

test('not a loop: another port, another address, a name we do not know', () => {
  assert.equal(loops('127.0.0.1', '0.0.0.0', 26), false);
  assert.equal(loops('127.0.0.2', '127.0.0.1'), false);
  assert.equal(loops('192.0.2.7', '127.0.0.1'), false);
  assert.equal(loops('198.51.100.1', '0.0.0.0'), false);
  assert.equal(loops('mailbox.contoso.test', '0.0.0.0'), false);
  assert.equal(loops('localhost', '192.0.2.7'), false);
});

test('validateConfig refuses it, naming the route', () => {
  assert.throws(
    () => validateConfig({ receiveConnectors: [{ name: 'mx', bind: '0.0.0.0', port: 2525 }], routes: [{ name: 'back', type: 'smtp', host: 'localhost', port: 2525 }] }),
    /routes\[0\]\.host: localhost:2525 is this gateway's own receive connector "mx" \(0\.0\.0\.0:2525\): a mail loop/,
  );
});
