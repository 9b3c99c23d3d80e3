/**
 * @module policy/domains.test
 * Unit tests for policy/domains: accepted-domain lookup (exact, matchSubDomains), sender/header-From domains, domain patterns.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { acceptedDomainOf, domainMatchesAny, headerFromDomainOf, senderDomainOf } from './domains.ts';

const snap = snapshotOf({
  acceptedDomains: [
    { domainName: 'contoso.com' },
    { domainName: 'fabrikam.com', domainType: 'InternalRelay', matchSubDomains: true },
    { domainName: 'eu.fabrikam.com', domainType: 'InternalRelay', matchSubDomains: true },
  ],
});

test('acceptedDomainOf: exact, case-insensitive, trailing dot', () => {
  assert.equal(acceptedDomainOf('contoso.com', snap)?.domainName, 'contoso.com');
  assert.equal(acceptedDomainOf('CONTOSO.com.', snap)?.domainName, 'contoso.com');
});

test('acceptedDomainOf: subdomain only with matchSubDomains', () => {
  assert.equal(acceptedDomainOf('mail.contoso.com', snap), undefined);
  assert.equal(acceptedDomainOf('a.b.fabrikam.com', snap)?.domainName, 'fabrikam.com');
  assert.equal(acceptedDomainOf('x.eu.fabrikam.com', snap)?.domainName, 'eu.fabrikam.com');
  assert.equal(acceptedDomainOf('evilfabrikam.com', snap), undefined);
  assert.equal(acceptedDomainOf('', snap), undefined);
});

test('senderDomainOf: unknown, null sender, domain', () => {
  assert.equal(senderDomainOf(factsOf({})), undefined);
  assert.equal(senderDomainOf(factsOf({ mailFrom: '' })), '');
  assert.equal(senderDomainOf(factsOf({ mailFrom: '<>' })), '');
  assert.equal(senderDomainOf(factsOf({ mailFrom: 'A@Contoso.COM' })), 'contoso.com');
});

test('headerFromDomainOf: bare and display-name forms', () => {
  assert.equal(headerFromDomainOf(factsOf({ headerFrom: 'ceo@contoso.com' })), 'contoso.com');
  assert.equal(headerFromDomainOf(factsOf({ headerFrom: '"CEO" <ceo@Contoso.com>' })), 'contoso.com');
  assert.equal(headerFromDomainOf(factsOf({})), '');
});

test('domainMatchesAny: *, exact, *.d; missing domain only *', () => {
  assert.equal(domainMatchesAny(['*'], 'x.org'), true);
  assert.equal(domainMatchesAny(['contoso.com'], 'mail.contoso.com'), false);
  assert.equal(domainMatchesAny(['*.contoso.com'], 'contoso.com'), true);
  assert.equal(domainMatchesAny(['*.contoso.com'], 'a.b.contoso.com'), true);
  assert.equal(domainMatchesAny(['*.contoso.com'], 'evilcontoso.com'), false);
  assert.equal(domainMatchesAny(['contoso.com'], ''), false);
  assert.equal(domainMatchesAny(['*'], ''), true);
  assert.equal(domainMatchesAny(['*'], undefined), true);
});
