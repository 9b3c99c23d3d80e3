/**
 * @module ops/list-entry.test
 * List entries: IPs and CIDRs (v4, v6) kept, domains and *.domains kept, anything that looks
 * like an IP but is not one refused (never stored as a domain), addresses and "*" refused; which
 * accepted domains a block entry covers.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadExampleConfig } from '../config/index.ts';
import { acceptedDomainsBlocked, parseListEntry } from './list-entry.ts';
import { OpsError } from './errors.ts';
import type { ReplyText } from './policy-replay.ts';

const reply: ReplyText = (key) => (key === 'sender-blocked' ? '550 5.7.1 Sender domain blocked' : key);

test('parseListEntry', () => {
  for (const ok of ['192.0.2.1', '198.51.100.0/24', '2001:db8::/32', '::1', 'spam.example', '*.spam.example', 'bücher.example']) assert.equal(parseListEntry(ok), ok);
  for (const bad of ['999.1.1.1', '1.2.3', '10.0.0.0/33', '2001:db8::/129', 'fe80::zz', 'a@b.example', '*', 'localhost', 'bad_name.example', '-x.example']) {
    assert.throws(() => parseListEntry(bad), OpsError, bad);
  }
});

test('acceptedDomainsBlocked: exact, wildcard, subdomain under matchSubDomains', () => {
  const c = loadExampleConfig();
  assert.equal(acceptedDomainsBlocked(c, ['example.com'], reply).length, 1);
  assert.equal(acceptedDomainsBlocked(c, ['*.example.com'], reply).length, 1);
  assert.deepEqual(acceptedDomainsBlocked(c, ['mail.example.com', '192.0.2.1', 'other.example'], reply), []);
  c.acceptedDomains[0] = { domainName: 'example.com', domainType: 'InternalRelay', matchSubDomains: true };
  assert.match(acceptedDomainsBlocked(c, ['mail.example.com'], reply)[0] ?? '', /covers your accepted domain example\.com: .* \(550 5\.7\.1\)/);
});
