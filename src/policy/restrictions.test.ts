/**
 * @module policy/restrictions.test
 * Unit tests for policy/restrictions: rcpt stage: Partner RestrictDomainsToIPAddresses / RestrictDomainsToCertificate.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { evaluate } from './evaluate.ts';
import type { CertFacts } from './types.ts';

const cert = (cn: string, verified = true): CertFacts => ({ subjectCN: cn, sanDns: [], verified });
const snap = snapshotOf({
  acceptedDomains: [{ domainName: 'contoso.com' }],
  inboundConnectors: [
    { name: 'vendor-ip', connectorType: 'Partner', senderDomains: ['vendor.example'], senderIPAddresses: ['198.51.100.0/24'], restrictDomainsToIPAddresses: true },
    { name: 'vendor-cert', connectorType: 'Partner', senderDomains: ['*.bank.example'], tlsSenderCertificateName: 'mx.bank.example', restrictDomainsToCertificate: true },
    { name: 'open', connectorType: 'Partner', senderDomains: ['open.example'], senderIPAddresses: ['192.0.2.0/24'] },
    { name: 'onprem', connectorType: 'OnPremises', senderIPAddresses: ['10.0.0.0/8'] },
  ],
  users: [{ name: 'app', passwordHash: 'scrypt$x', sendAs: ['*'] }],
});
const rcpt = (p: Parameters<typeof factsOf>[0]) => {
  const v = evaluate('rcpt', factsOf({ rcpt: 'x@contoso.com', ...p }), snap);
  return v.action === 'continue' ? 'continue' : v.reply;
};

test('restricted sender from the wrong IP / without certificate refused', () => {
  assert.equal(rcpt({ mailFrom: 'a@vendor.example' }), 'partner-restricted');
  assert.equal(rcpt({ mailFrom: 'a@bank.example' }), 'partner-restricted');
  assert.equal(rcpt({ mailFrom: 'a@eu.bank.example', cert: cert('mx.bank.example', false) }), 'partner-restricted');
});

test('restricted sender from the right IP / with verified certificate continues', () => {
  assert.equal(rcpt({ clientIp: '198.51.100.3', mailFrom: 'a@vendor.example' }), 'continue');
  assert.equal(rcpt({ mailFrom: 'a@eu.bank.example', cert: cert('mx.bank.example') }), 'continue');
});

test('authenticated or other connector not restricted; unrelated senders not restricted', () => {
  assert.equal(rcpt({ authUser: 'app', mailFrom: 'a@vendor.example' }), 'continue');
  assert.equal(rcpt({ clientIp: '10.0.0.1', mailFrom: 'a@vendor.example' }), 'continue');
  assert.equal(rcpt({ mailFrom: 'a@open.example' }), 'continue');
  assert.equal(rcpt({ mailFrom: 'a@sub.vendor.example' }), 'continue');
  assert.equal(rcpt({ mailFrom: '' }), 'continue');
});

test('senderDomains * locks down everything, null sender included', () => {
  const s = snapshotOf({
    acceptedDomains: [{ domainName: 'contoso.com' }],
    inboundConnectors: [{ name: 'mx-only', senderDomains: ['*'], senderIPAddresses: ['198.51.100.0/24'], restrictDomainsToIPAddresses: true }],
  });
  const r = (p: Parameters<typeof factsOf>[0]) => {
    const v = evaluate('rcpt', factsOf({ rcpt: 'x@contoso.com', ...p }), s);
    return v.action === 'continue' ? 'continue' : v.reply;
  };
  assert.equal(r({ mailFrom: '' }), 'partner-restricted');
  assert.equal(r({ mailFrom: 'a@anything.org' }), 'partner-restricted');
  assert.equal(r({ clientIp: '198.51.100.1', mailFrom: '' }), 'continue');
  const v = evaluate('rcpt', factsOf({ rcpt: 'x@contoso.com', mailFrom: 'a@z.org' }), s);
  assert.deepEqual(v.action === 'reject' ? v.vars : undefined, { connector: 'mx-only', domain: 'z.org' });
});

test('relay is checked before partner restrictions', () => {
  assert.equal(rcpt({ mailFrom: 'a@vendor.example', rcpt: 'x@ext.org' }), 'relay-denied');
});
