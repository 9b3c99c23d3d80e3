/**
 * @module policy/direct-send.test
 * Unit tests for policy/direct-send: RejectDirectSend at rcpt (MAIL FROM) and eod (header From, MAIL FROM re-check).
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { evaluate } from './evaluate.ts';
import type { PolicyInput, Stage } from './types.ts';

const config = (org: Record<string, boolean>) => ({
  organization: org,
  acceptedDomains: [{ domainName: 'contoso.com' }, { domainName: 'fabrikam.com', domainType: 'InternalRelay', matchSubDomains: true }],
  inboundConnectors: [
    { name: 'scanner', connectorType: 'Partner', senderDomains: ['contoso.com'], senderIPAddresses: ['192.0.2.10'] },
    { name: 'saas', connectorType: 'Partner', senderDomains: ['*'], tlsSenderCertificateName: '*.saas.example' },
  ],
  users: [{ name: 'alice@contoso.com', passwordHash: 'scrypt$x' }],
});
const on = snapshotOf(config({ rejectDirectSend: true }));
const off = snapshotOf(config({ rejectDirectSend: false }));
const both = snapshotOf(config({ rejectDirectSend: true, rejectDirectSendHeaderFrom: true }));
const run = (stage: Stage, p: Partial<PolicyInput>, s = on) => {
  const v = evaluate(stage, factsOf({ rcpt: 'x@contoso.com', ...p }), s);
  return v.action === 'continue' ? 'continue' : v.reply;
};

test('anonymous own-domain MAIL FROM refused at RCPT when on, allowed when off', () => {
  assert.equal(run('rcpt', { mailFrom: 'printer@contoso.com' }), 'direct-send-rejected');
  assert.equal(run('rcpt', { mailFrom: 'printer@contoso.com' }, off), 'continue');
  const v = evaluate('rcpt', factsOf({ rcpt: 'x@contoso.com', mailFrom: 'p@contoso.com' }), on);
  assert.deepEqual(v.attribution, { kind: 'direct-send', basis: 'mail-from' });
  assert.deepEqual(v.reasons, ['direct-send:mail-from', 'relay:accepted-domain']);
  assert.deepEqual(v.action === 'reject' ? v.vars : undefined, { domain: 'contoso.com' });
});

test('subdomain sender: only with matchSubDomains', () => {
  assert.equal(run('rcpt', { mailFrom: 'p@mail.contoso.com' }), 'continue');
  assert.equal(run('rcpt', { mailFrom: 'p@mail.fabrikam.com' }), 'direct-send-rejected');
});

test('connector (IP or verified cert) and AUTH exempt', () => {
  assert.equal(run('rcpt', { clientIp: '192.0.2.10', mailFrom: 'p@contoso.com' }), 'continue');
  assert.equal(run('rcpt', { cert: { subjectCN: 'out.saas.example', sanDns: [], verified: true }, mailFrom: 'p@contoso.com' }), 'continue');
  assert.equal(run('rcpt', { cert: { subjectCN: 'out.saas.example', sanDns: [], verified: false }, mailFrom: 'p@contoso.com' }), 'direct-send-rejected');
  assert.equal(run('rcpt', { authUser: 'alice@contoso.com', mailFrom: 'alice@contoso.com' }), 'continue');
});

test('Partner connector matched only by IP but not by senderDomains does not exempt', () => {
  assert.equal(run('rcpt', { clientIp: '192.0.2.10', mailFrom: 'p@fabrikam.com' }), 'direct-send-rejected');
});

test('null sender to inside is not Direct Send', () => {
  assert.equal(run('rcpt', { mailFrom: '' }), 'continue');
  const v = evaluate('rcpt', factsOf({ rcpt: 'x@contoso.com', mailFrom: '' }), on);
  assert.deepEqual(v.attribution, { kind: 'anonymous-external' });
});

test('header From at eod: only with both options', () => {
  const f = { mailFrom: 'bounce@esp.example', headerFrom: 'CEO <ceo@contoso.com>' };
  assert.equal(run('eod', f, both), 'direct-send-rejected');
  assert.equal(run('eod', f, on), 'continue');
  assert.equal(run('eod', f, snapshotOf(config({ rejectDirectSendHeaderFrom: true }))), 'continue');
  assert.equal(run('eod', { ...f, mailFrom: '' }, both), 'direct-send-rejected');
  assert.equal(run('eod', { ...f, headerFrom: 'a@esp.example' }, both), 'continue');
  assert.equal(run('eod', { ...f, clientIp: '192.0.2.10', mailFrom: 'x@contoso.com' }, both), 'continue');
  assert.equal(run('rcpt', f, both), 'continue');
  const v = evaluate('eod', factsOf({ rcpt: undefined, ...f }), both);
  assert.deepEqual(v.attribution, { kind: 'direct-send', basis: 'header-from' });
});

test('eod re-checks the MAIL FROM basis', () => {
  assert.equal(run('eod', { rcpt: undefined, mailFrom: 'p@contoso.com' }), 'direct-send-rejected');
});

test('header-From Direct Send considers every From address, not just the first', async () => {
  const { attribute } = await import('./attribute.ts');
  const facts = factsOf({ rcpt: 'x@contoso.com', mailFrom: 'bounce@esp.example', headerFrom: 'x@outside.test', headerFromAddresses: ['x@outside.test', 'ceo@contoso.com'] });
  assert.deepEqual(attribute(facts, both, 'eod'), { kind: 'direct-send', basis: 'header-from' });
  const outside = factsOf({ rcpt: 'x@contoso.com', mailFrom: 'bounce@esp.example', headerFrom: 'x@outside.test', headerFromAddresses: ['x@outside.test', 'y@other.test'] });
  assert.deepEqual(attribute(outside, both, 'eod'), { kind: 'anonymous-external' });
});
