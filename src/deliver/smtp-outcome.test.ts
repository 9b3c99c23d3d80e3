/**
 * @module deliver/smtp-outcome.test
 * Mapping nodemailer results and errors (shapes as smtp-connection builds them) to outcomes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomesFromError, outcomesFromInfo, parseEnhanced } from './smtp-outcome.ts';

const hop = 'smtp:h:25';
const smtpErr = (message: string, fields: Record<string, unknown>): Error => Object.assign(new Error(message), fields);

test('parseEnhanced reads the RFC 3463 code after the reply code', () => {
  assert.equal(parseEnhanced('550 5.1.1 no such user'), '5.1.1');
  assert.equal(parseEnhanced('250-2.0.0 ok'), '2.0.0');
  assert.equal(parseEnhanced('550 no such user'), undefined);
  assert.equal(parseEnhanced('550 5.1.1x'), undefined);
});

test('a DATA-stage 5xx fails every recipient; a 4xx defers them', () => {
  const e5 = smtpErr('Message failed: 554 5.6.0 content rejected', { code: 'EMESSAGE', command: 'DATA', response: '554 5.6.0 content rejected', responseCode: 554 });
  assert.deepEqual(outcomesFromError(['a@x', 'b@x'], e5, hop).outcomes.map((o) => [o.status, o.enhanced]), [['failed', '5.6.0'], ['failed', '5.6.0']]);
  const e4 = smtpErr('Message failed', { code: 'EMESSAGE', command: 'DATA', response: '452 4.3.1 disk full', responseCode: 452 });
  assert.equal(outcomesFromError(['a@x'], e4, hop).outcomes[0]?.status, 'deferred');
});

test('MAIL FROM 5xx fails all recipients, not flagged as a hop failure', () => {
  const e = smtpErr('Mail command failed', { code: 'EENVELOPE', command: 'MAIL FROM', response: '553 5.7.1 sender refused', responseCode: 553 });
  const r = outcomesFromError(['a@x'], e, hop);
  assert.equal(r.outcomes[0]?.status, 'failed');
  assert.equal(r.hopFailed, false);
});

test('a 5xx greeting is a session failure: deferred, try the next MX', () => {
  const e = smtpErr('Invalid greeting', { code: 'EPROTOCOL', command: 'CONN', response: '554 go away', responseCode: 554 });
  const r = outcomesFromError(['a@x'], e, hop);
  assert.equal(r.outcomes[0]?.status, 'deferred');
  assert.equal(r.hopFailed, true);
});

test('an address nodemailer itself refuses fails 5.1.3', () => {
  const e = smtpErr('Invalid recipient "<x>"', { code: 'EENVELOPE', command: 'API' });
  assert.deepEqual(outcomesFromError(['<x>'], e, hop).outcomes.map((o) => [o.status, o.enhanced]), [['failed', '5.1.3']]);
});

test('info: matches recipients case-insensitively; unknown ones are deferred', () => {
  const info = { accepted: ['A@X.test'], rejected: [], response: '250 2.0.0 Ok queued' };
  const r = outcomesFromInfo(['a@x.test', 'b@x.test'], info, hop).outcomes;
  assert.deepEqual(r.map((o) => [o.status, o.code, o.enhanced]), [['delivered', 250, '2.0.0'], ['deferred', undefined, '4.3.0']]);
});
