/**
 * @module auth/compauth.test
 * Unit tests for auth/compauth (the reason-code mapping), auth/auth-results (rendering, the
 * DMARC action) and auth/dns-wire (name encoding limits), with hand-built facts: no DNS.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compauth, spoofSuspect } from './compauth.ts';
import { defaultDmarcAction, renderAuthResults } from './auth-results.ts';
import { decodeResponse, encodeQuery } from './dns-wire.ts';
import type { AuthFacts, DmarcFacts } from './types.ts';

const facts = (dmarc: Partial<DmarcFacts>, over: Partial<AuthFacts> = {}): Pick<AuthFacts, 'spf' | 'dkim' | 'dmarc'> => ({
  spf: { result: 'fail', domain: 'contoso.example' },
  dkim: [],
  dmarc: { result: 'fail', alignment: { spf: false, dkim: false }, headerFrom: 'contoso.example', ...dmarc },
  ...over,
});

test('compauth reason codes', () => {
  assert.deepEqual(compauth(facts({ result: 'pass', alignment: { spf: true, dkim: true } })), { result: 'pass', reason: '100' });
  assert.deepEqual(compauth(facts({ result: 'fail', policy: 'quarantine' })), { result: 'fail', reason: '000' });
  assert.deepEqual(compauth(facts({ result: 'fail', policy: 'reject' }), () => true), { result: 'fail', reason: '010' });
  assert.deepEqual(compauth(facts({ result: 'fail', policy: 'none' })), { result: 'fail', reason: '001' });
  assert.deepEqual(compauth(facts({ result: 'fail', policy: 'none' }), () => true), { result: 'fail', reason: '601' });
  assert.deepEqual(compauth(facts({ result: 'temperror' })), { result: 'none', reason: '112' });
  assert.deepEqual(compauth(facts({ result: 'temperror', alignment: { spf: true, dkim: false } })), { result: 'pass', reason: '111' });
  assert.deepEqual(compauth(facts({ result: 'none', headerFrom: undefined })), { result: 'none', reason: '300' });
  const dkimPass = { dkim: [{ domain: 'mail.contoso.example', selector: 's', result: 'pass' as const }] };
  assert.deepEqual(compauth(facts({ result: 'none' }, dkimPass)), { result: 'pass', reason: '109' });
});

test('spoofSuspect needs SPF not passing, no DKIM pass and DMARC fail', () => {
  assert.equal(spoofSuspect(facts({ result: 'fail' })), true);
  assert.equal(spoofSuspect(facts({ result: 'fail' }, { spf: { result: 'temperror', domain: 'x' } })), false);
  assert.equal(spoofSuspect(facts({ result: 'none' })), false);
});

test('DMARC action and header rendering', () => {
  assert.equal(defaultDmarcAction(facts({ result: 'fail', policy: 'reject' })), 'oreject');
  assert.equal(defaultDmarcAction(facts({ result: 'pass', policy: 'reject' })), 'none');
  const f = { ...facts({ result: 'fail', policy: 'reject', p: 'reject' }), arc: { result: 'none' as const }, compauth: { result: 'fail' as const, reason: '000' }, spoofSuspect: true, dnsLookups: 0, elapsedMs: 0 };
  const h = renderAuthResults('mx.mailgate.test', f, { clientIp: '203.0.113.9', dmarcAction: 'reject' });
  assert.equal(
    h,
    'Authentication-Results: mx.mailgate.test;\r\n spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=contoso.example;\r\n dkim=none (message not signed);\r\n' +
      ' dmarc=fail (p=reject) action=reject header.from=contoso.example;\r\n arc=none;\r\n compauth=fail reason=000\r\n',
  );
});

test('dns-wire refuses names that cannot exist and round-trips a query header', () => {
  assert.throws(() => encodeQuery(1, `${'a'.repeat(64)}.example`, 16), { code: 'EBADNAME' });
  assert.throws(() => encodeQuery(1, 'a..example', 16), { code: 'EBADNAME' });
  const q = encodeQuery(0x1234, 'Example.COM', 16);
  const parsed = decodeResponse(q);
  assert.equal(parsed.id, 0x1234);
  assert.deepEqual(parsed.question, { name: 'Example.COM', type: 16 });
});
