/**
 * @module policy/evaluate.test
 * Unit tests for policy/evaluate: stage dispatch, helo/data continue, connector requireTls, purity, public surface.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { evaluate, checksFor } from './evaluate.ts';
import * as policy from './index.ts';

const snap = snapshotOf({
  acceptedDomains: [{ domainName: 'contoso.com' }],
  inboundConnectors: [
    { name: 'tls-partner', connectorType: 'Partner', senderDomains: ['vendor.example'], senderIPAddresses: ['198.51.100.0/24'], requireTls: true },
    { name: 'onprem', connectorType: 'OnPremises', senderIPAddresses: ['10.0.0.0/8'], requireTls: true },
  ],
  receiveConnectors: [{ name: 'mx', port: 25 }],
  users: [{ name: 'app', passwordHash: 'scrypt$x', sendAs: ['*'] }],
});

test('helo and data always continue, with the attribution of the facts', () => {
  for (const stage of ['helo', 'data'] as const) {
    const v = evaluate(stage, factsOf({ clientIp: '10.0.0.1', helo: 'x' }), snap);
    assert.equal(v.action, 'continue');
    assert.deepEqual(v.attribution, { kind: 'connector', connector: 'onprem', connectorType: 'OnPremises', matchedBy: 'ip' });
    assert.deepEqual(v.reasons, ['connector:ip']);
  }
  assert.equal(checksFor('helo').length, 0);
});

test('connector-requires-tls at MAIL: plain refused, TLS continues', () => {
  const plain = evaluate('mail', factsOf({ clientIp: '198.51.100.1', mailFrom: 'a@vendor.example' }), snap);
  assert.equal(plain.action === 'reject' ? plain.reply : plain.action, 'connector-requires-tls');
  assert.deepEqual(plain.action === 'reject' ? plain.vars : undefined, { connector: 'tls-partner' });
  const tls = evaluate('mail', factsOf({ clientIp: '198.51.100.1', mailFrom: 'a@vendor.example', tls: true }), snap);
  assert.equal(tls.action, 'continue');
});

test('requireTls applies only when the connector is the attribution', () => {
  const other = evaluate('mail', factsOf({ clientIp: '198.51.100.1', mailFrom: 'a@other.example' }), snap);
  assert.equal(other.action, 'continue');
  const authed = evaluate('mail', factsOf({ clientIp: '10.0.0.1', authUser: 'app', mailFrom: 'a@other.example' }), snap);
  assert.equal(authed.action, 'continue');
});

test('evaluate is pure: same input, same verdict, snapshot untouched', () => {
  const f = factsOf({ mailFrom: 'a@contoso.com', rcpt: 'x@contoso.com' });
  assert.deepEqual(evaluate('rcpt', f, snap), evaluate('rcpt', f, snap));
  assert.ok(Object.isFrozen(snap));
});

test('index exposes the public API', () => {
  assert.equal(typeof policy.evaluate, 'function');
  assert.equal(typeof policy.attribute, 'function');
  assert.equal(typeof policy.matchConnector, 'function');
  assert.equal(typeof policy.acceptedDomainOf, 'function');
});
