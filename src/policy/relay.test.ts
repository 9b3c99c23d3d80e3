/**
 * @module policy/relay.test
 * Unit tests for policy/relay: rcpt stage: relay denial, routing syntax (%, !, source route), recipient limit.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { evaluate } from './evaluate.ts';

const snap = snapshotOf({
  acceptedDomains: [{ domainName: 'contoso.com' }, { domainName: 'fabrikam.com', domainType: 'InternalRelay', matchSubDomains: true }],
  inboundConnectors: [
    { name: 'onprem', connectorType: 'OnPremises', senderIPAddresses: ['10.0.0.0/8'] },
    { name: 'partner', connectorType: 'Partner', senderIPAddresses: ['198.51.100.0/24'], senderDomains: ['*'] },
  ],
  receiveConnectors: [{ name: 'mx', port: 25, maxRecipients: 3 }],
  users: [{ name: 'app', passwordHash: 'scrypt$x', sendAs: ['*'] }],
});
const rcpt = (p: Parameters<typeof factsOf>[0]) => {
  const v = evaluate('rcpt', factsOf({ mailFrom: 'a@outside.org', ...p }), snap);
  return v.action === 'continue' ? 'continue' : v.reply;
};

test('anonymous to accepted domain continues; to outside refused', () => {
  assert.equal(rcpt({ rcpt: 'x@contoso.com' }), 'continue');
  assert.equal(rcpt({ rcpt: 'x@deep.sub.fabrikam.com' }), 'continue');
  assert.equal(rcpt({ rcpt: 'x@sub.contoso.com' }), 'relay-denied');
  assert.equal(rcpt({ rcpt: 'x@ext.org' }), 'relay-denied');
  assert.equal(rcpt({ rcpt: 'x@[192.0.2.1]' }), 'relay-denied');
});

test('relay-denied for every sender variant including null sender and own domain', () => {
  assert.equal(rcpt({ mailFrom: '', rcpt: 'x@ext.org' }), 'relay-denied');
  assert.equal(rcpt({ mailFrom: 'ceo@contoso.com', rcpt: 'x@ext.org' }), 'relay-denied');
  const v = evaluate('rcpt', factsOf({ mailFrom: '', rcpt: 'x@ext.org' }), snap);
  assert.deepEqual(v.attribution, { kind: 'relay-denied' });
  assert.deepEqual(v.action === 'reject' ? v.vars : undefined, { domain: 'ext.org' });
});

test('OnPremises connector and authenticated may relay; Partner may not', () => {
  assert.equal(rcpt({ clientIp: '10.1.1.1', mailFrom: 'app@contoso.com', rcpt: 'x@ext.org' }), 'continue');
  // matched by IP: only an accepted MAIL FROM domain relays (reference §3.2, Exchange 5.7.64 ATTR36)
  assert.equal(rcpt({ clientIp: '10.1.1.1', rcpt: 'x@ext.org' }), 'relay-sender-not-accepted');
  assert.equal(rcpt({ clientIp: '10.1.1.1', mailFrom: '', rcpt: 'x@ext.org' }), 'relay-sender-not-accepted');
  assert.equal(rcpt({ authUser: 'app', rcpt: 'x@ext.org' }), 'continue');
  assert.equal(rcpt({ clientIp: '198.51.100.5', rcpt: 'x@ext.org' }), 'relay-denied');
  assert.equal(rcpt({ clientIp: '198.51.100.5', rcpt: 'x@contoso.com' }), 'continue');
});

test('routing syntax refused for anonymous and Partner, allowed for OnPremises/authenticated', () => {
  assert.equal(rcpt({ rcpt: 'user%ext.org@contoso.com' }), 'relay-routing-denied');
  assert.equal(rcpt({ rcpt: '@contoso.com:user@ext.org' }), 'relay-routing-denied');
  assert.equal(rcpt({ rcpt: '@contoso.com,@x.org:user@contoso.com' }), 'relay-routing-denied');
  assert.equal(rcpt({ rcpt: 'ext.org!user@contoso.com' }), 'relay-routing-denied');
  assert.equal(rcpt({ clientIp: '198.51.100.5', rcpt: 'user%ext.org@contoso.com' }), 'relay-routing-denied');
  assert.equal(rcpt({ clientIp: '10.1.1.1', mailFrom: 'app@contoso.com', rcpt: 'user%ext.org@contoso.com' }), 'continue');
  assert.equal(rcpt({ clientIp: '10.1.1.1', rcpt: 'user%ext.org@contoso.com' }), 'relay-routing-denied');
  assert.equal(rcpt({ authUser: 'app', rcpt: 'ext.org!user@contoso.com' }), 'continue');
});

test('recipient limit: tempfail at maxRecipients, after relay check', () => {
  assert.equal(rcpt({ rcpt: 'x@contoso.com', acceptedRcptCount: 2 }), 'continue');
  assert.equal(rcpt({ rcpt: 'x@contoso.com', acceptedRcptCount: 3 }), 'too-many-recipients');
  assert.equal(rcpt({ rcpt: 'x@ext.org', acceptedRcptCount: 3 }), 'relay-denied');
  const v = evaluate('rcpt', factsOf({ mailFrom: 'a@b.org', rcpt: 'x@contoso.com', acceptedRcptCount: 5 }), snap);
  assert.equal(v.action, 'tempfail');
  assert.deepEqual(v.action === 'tempfail' ? v.vars : undefined, { max: '3' });
});

test('continue carries relay reasons', () => {
  assert.deepEqual(evaluate('rcpt', factsOf({ mailFrom: 'a@b.org', rcpt: 'x@contoso.com' }), snap).reasons, ['anonymous-external', 'relay:accepted-domain']);
  assert.deepEqual(evaluate('rcpt', factsOf({ clientIp: '10.0.0.1', mailFrom: 'a@contoso.com', rcpt: 'x@e.org' }), snap).reasons, [
    'connector:ip',
    'relay:on-premises-connector',
  ]);
});
