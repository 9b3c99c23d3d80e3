/**
 * @module policy/attribute.test
 * Unit tests for policy/attribute: connector matching (certificate before IP, verified only, wildcards, longest prefix, Partner senderDomains) and attribution.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { attribute, matchConnector } from './attribute.ts';
import type { CertFacts } from './types.ts';

const cert = (names: string[], verified = true): CertFacts => ({ subjectCN: names[0], sanDns: names.slice(1), verified });

const snap = snapshotOf({
  organization: { rejectDirectSendHeaderFrom: true },
  acceptedDomains: [{ domainName: 'contoso.com' }, { domainName: 'fabrikam.com', domainType: 'InternalRelay', matchSubDomains: true }],
  inboundConnectors: [
    { name: 'wide', connectorType: 'OnPremises', senderIPAddresses: ['192.0.2.0/24', '2001:db8::/32'] },
    { name: 'narrow', connectorType: 'OnPremises', senderIPAddresses: ['192.0.2.128/25'] },
    { name: 'tie', connectorType: 'OnPremises', senderIPAddresses: ['192.0.2.128/25'] },
    { name: 'loopback6', connectorType: 'OnPremises', senderIPAddresses: ['::1'] },
    { name: 'cert-exact', connectorType: 'OnPremises', tlsSenderCertificateName: 'mail.contoso.com' },
    { name: 'cert-wild', connectorType: 'OnPremises', tlsSenderCertificateName: '*.contoso.com' },
    { name: 'saas', connectorType: 'Partner', senderIPAddresses: ['198.51.100.0/24'], senderDomains: ['*.saas.example'] },
    { name: 'any-partner', connectorType: 'Partner', senderIPAddresses: ['198.51.100.7'], senderDomains: ['*'] },
    { name: 'off', connectorType: 'OnPremises', senderIPAddresses: ['203.0.113.0/24'], enabled: false },
  ],
});

const m = (p: Parameters<typeof factsOf>[0]) => {
  const r = matchConnector(factsOf(p), snap);
  return r ? `${r.connector.name}/${r.matchedBy}` : undefined;
};

test('IP: longest prefix wins, ties by config order', () => {
  assert.equal(m({ clientIp: '192.0.2.5' }), 'wide/ip');
  assert.equal(m({ clientIp: '192.0.2.200' }), 'narrow/ip');
});

test('IP: IPv6 CIDR, ::1, IPv4-mapped client', () => {
  assert.equal(m({ clientIp: '2001:db8:1::25' }), 'wide/ip');
  assert.equal(m({ clientIp: '::1' }), 'loopback6/ip');
  assert.equal(m({ clientIp: '::ffff:192.0.2.5' }), 'wide/ip');
  assert.equal(m({ clientIp: '2001:db9::1' }), undefined);
});

test('disabled connectors never match', () => {
  assert.equal(m({ clientIp: '203.0.113.10' }), undefined);
});

test('certificate: verified only, first before IP', () => {
  assert.equal(m({ clientIp: '192.0.2.5', cert: cert(['mail.contoso.com']) }), 'cert-exact/certificate');
  assert.equal(m({ clientIp: '192.0.2.5', cert: cert(['mail.contoso.com'], false) }), 'wide/ip');
  assert.equal(m({ cert: cert(['mail.contoso.com'], false) }), undefined);
});

test('certificate: wildcard matches base and deep subdomains, not look-alikes', () => {
  assert.equal(m({ cert: cert(['contoso.com']) }), 'cert-wild/certificate');
  assert.equal(m({ cert: cert(['a.b.contoso.com']) }), 'cert-wild/certificate');
  assert.equal(m({ cert: cert(['evilcontoso.com']) }), undefined);
});

test('certificate: exact name does not match a subdomain; most precise wins; SAN counts', () => {
  assert.equal(m({ cert: cert(['x.mail.contoso.com']) }), 'cert-wild/certificate');
  assert.equal(m({ cert: cert(['MAIL.Contoso.com.']) }), 'cert-exact/certificate');
  assert.equal(m({ cert: cert(['Printer CN', 'other.org', 'mail.contoso.com']) }), 'cert-exact/certificate');
});

test('Partner: senderDomains must match MAIL FROM; * matches before MAIL FROM and for <>', () => {
  assert.equal(m({ clientIp: '198.51.100.9', mailFrom: 'a@eu.saas.example' }), 'saas/ip');
  assert.equal(m({ clientIp: '198.51.100.9', mailFrom: 'a@other.org' }), undefined);
  assert.equal(m({ clientIp: '198.51.100.9' }), undefined);
  assert.equal(m({ clientIp: '198.51.100.9', mailFrom: '' }), undefined);
  assert.equal(m({ clientIp: '198.51.100.7', mailFrom: 'a@other.org' }), 'any-partner/ip');
  assert.equal(m({ clientIp: '198.51.100.7', mailFrom: 'a@eu.saas.example' }), 'any-partner/ip');
  assert.equal(m({ clientIp: '198.51.100.7' }), 'any-partner/ip');
  assert.equal(m({ clientIp: '198.51.100.7', mailFrom: '' }), 'any-partner/ip');
});

test('restricting connectors must satisfy their restriction to match', () => {
  const s = snapshotOf({
    inboundConnectors: [
      { name: 'cert-only', senderIPAddresses: ['192.0.2.0/24'], tlsSenderCertificateName: 'mx.vendor.example', restrictDomainsToCertificate: true },
      { name: 'ip-only', senderIPAddresses: ['198.51.100.0/24'], tlsSenderCertificateName: 'relay.vendor.example', restrictDomainsToIPAddresses: true },
    ],
  });
  const mm = (p: Parameters<typeof factsOf>[0]) => matchConnector(factsOf(p), s)?.connector.name;
  assert.equal(mm({ clientIp: '192.0.2.1' }), undefined);
  assert.equal(mm({ clientIp: '192.0.2.1', cert: cert(['mx.vendor.example']) }), 'cert-only');
  assert.equal(mm({ clientIp: '203.0.113.1', cert: cert(['relay.vendor.example']) }), undefined);
  assert.equal(mm({ clientIp: '198.51.100.1', cert: cert(['relay.vendor.example']) }), 'ip-only');
});

test('attribute: authenticated beats everything', () => {
  assert.deepEqual(attribute(factsOf({ authUser: 'app', clientIp: '192.0.2.5', rcpt: 'x@ext.org' }), snap), { kind: 'authenticated', user: 'app' });
});

test('attribute: connector; OnPremises keeps connector for relay, Partner becomes relay-denied', () => {
  assert.deepEqual(attribute(factsOf({ clientIp: '192.0.2.5', mailFrom: 'a@contoso.com', rcpt: 'x@ext.org' }), snap), {
    kind: 'connector',
    connector: 'wide',
    connectorType: 'OnPremises',
    matchedBy: 'ip',
  });
  const partner = factsOf({ clientIp: '198.51.100.7', mailFrom: 'a@other.org' });
  assert.equal(attribute({ ...partner, rcpt: 'x@contoso.com' }, snap).kind, 'connector');
  assert.equal(attribute({ ...partner, rcpt: 'x@ext.org' }, snap).kind, 'relay-denied');
});

test('attribute: direct-send by MAIL FROM, subdomains only with matchSubDomains', () => {
  const f = (mailFrom: string) => attribute(factsOf({ mailFrom, rcpt: 'x@contoso.com' }), snap);
  assert.deepEqual(f('a@contoso.com'), { kind: 'direct-send', basis: 'mail-from' });
  assert.deepEqual(f('a@mail.contoso.com'), { kind: 'anonymous-external' });
  assert.deepEqual(f('a@mail.fabrikam.com'), { kind: 'direct-send', basis: 'mail-from' });
  assert.deepEqual(f('a@outside.org'), { kind: 'anonymous-external' });
});

test('attribute: null sender is anonymous-external to inside, relay-denied to outside', () => {
  assert.deepEqual(attribute(factsOf({ mailFrom: '', rcpt: 'x@contoso.com' }), snap), { kind: 'anonymous-external' });
  assert.deepEqual(attribute(factsOf({ mailFrom: '', rcpt: 'x@ext.org' }), snap), { kind: 'relay-denied' });
});

test('attribute: header-from basis only at eod (or without stage) when enabled', () => {
  const facts = factsOf({ mailFrom: 'bounce@outside.org', headerFrom: '"CEO" <ceo@contoso.com>' });
  assert.deepEqual(attribute(facts, snap, 'eod'), { kind: 'direct-send', basis: 'header-from' });
  assert.deepEqual(attribute(facts, snap), { kind: 'direct-send', basis: 'header-from' });
  assert.deepEqual(attribute(facts, snap, 'rcpt'), { kind: 'anonymous-external' });
  const off = snapshotOf({ acceptedDomains: [{ domainName: 'contoso.com' }] });
  assert.deepEqual(attribute(facts, off, 'eod'), { kind: 'anonymous-external' });
});
