/**
 * @module policy/lists.test
 * Unit tests for policy/lists: mail stage: sender-domain block, IP block re-check, allow list and defaultDeny.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { evaluate } from './evaluate.ts';

const snap = snapshotOf({
  acceptedDomains: [{ domainName: 'contoso.com' }],
  inboundConnectors: [{ name: 'onprem', connectorType: 'OnPremises', senderIPAddresses: ['10.0.0.0/8'] }],
  receiveConnectors: [
    { name: 'mx', port: 25 },
    { name: 'closed', port: 2525, defaultDeny: true },
  ],
  lists: {
    block: { ips: ['192.0.2.66'], senderDomains: ['spam.example', '*.bad.example'] },
    allow: { ips: ['192.0.2.0/24'], senderDomains: ['partner.example', 'spam.example'] },
  },
  users: [{ name: 'app@contoso.com', passwordHash: 'scrypt$x', sendAs: ['*'] }],
});
const mail = (p: Parameters<typeof factsOf>[0]) => {
  const v = evaluate('mail', factsOf(p), snap);
  return v.action === 'continue' ? 'continue' : v.reply;
};

test('sender domain block: exact and *.d (domain and subdomains); block beats allow', () => {
  assert.equal(mail({ mailFrom: 'a@spam.example' }), 'sender-blocked');
  assert.equal(mail({ mailFrom: 'a@sub.spam.example' }), 'continue');
  assert.equal(mail({ mailFrom: 'a@bad.example' }), 'sender-blocked');
  assert.equal(mail({ mailFrom: 'a@x.y.bad.example' }), 'sender-blocked');
  assert.equal(mail({ mailFrom: 'a@notbad.example' }), 'continue');
  assert.equal(mail({ mailFrom: '' }), 'continue');
});

test('IP block re-checked at MAIL (list may change mid-session)', () => {
  assert.equal(mail({ clientIp: '192.0.2.66', mailFrom: 'a@partner.example' }), 'client-blocked');
});

test('default deny: refused unless connector, authenticated or allow-listed', () => {
  assert.equal(mail({ listener: 'closed', mailFrom: 'a@outside.org' }), 'default-deny');
  assert.equal(mail({ listener: 'closed', clientIp: '10.9.9.9', mailFrom: 'a@outside.org' }), 'continue');
  assert.equal(mail({ listener: 'closed', authUser: 'app@contoso.com', mailFrom: 'a@outside.org' }), 'continue');
  assert.equal(mail({ listener: 'closed', clientIp: '192.0.2.5', mailFrom: 'a@outside.org' }), 'continue');
  assert.equal(mail({ listener: 'closed', mailFrom: 'a@partner.example' }), 'continue');
  assert.equal(mail({ listener: 'closed', mailFrom: '' }), 'default-deny');
});

test('allow list reason is recorded; allow list does not grant relay', () => {
  const v = evaluate('mail', factsOf({ listener: 'closed', clientIp: '192.0.2.5', mailFrom: 'a@outside.org' }), snap);
  assert.ok(v.reasons.includes('allow:ip'));
  const r = evaluate('rcpt', factsOf({ listener: 'closed', clientIp: '192.0.2.5', mailFrom: 'a@outside.org', rcpt: 'x@ext.org' }), snap);
  assert.equal(r.action === 'reject' ? r.reply : r.action, 'relay-denied');
});

test('allow list does not exempt from RejectDirectSend', () => {
  const s = snapshotOf({
    organization: { rejectDirectSend: true },
    acceptedDomains: [{ domainName: 'contoso.com' }],
    lists: { allow: { ips: ['192.0.2.0/24'], senderDomains: ['contoso.com'] } },
  });
  const v = evaluate('rcpt', factsOf({ clientIp: '192.0.2.5', mailFrom: 'p@contoso.com', rcpt: 'x@contoso.com' }), s);
  assert.equal(v.action === 'reject' ? v.reply : v.action, 'direct-send-rejected');
});
