/**
 * @module policy/auth.test
 * Unit tests for policy/auth: mail stage: requireAuth and sendAs (exact, @domain, *, unknown user, null sender).
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOf, factsOf } from '../../test/golden/snapshot.ts';
import { evaluate } from './evaluate.ts';
import { maySendAs } from './auth.ts';

const snap = snapshotOf({
  acceptedDomains: [{ domainName: 'contoso.com' }],
  receiveConnectors: [
    { name: 'mx', port: 25 },
    { name: 'sub', port: 587, role: 'submission' },
  ],
  users: [
    { name: 'alice@contoso.com', passwordHash: 'scrypt$x' },
    { name: 'app', passwordHash: 'scrypt$x', sendAs: ['@contoso.com', 'noreply@fabrikam.com'] },
    { name: 'svc', passwordHash: 'scrypt$x' },
    { name: 'root', passwordHash: 'scrypt$x', sendAs: ['*'] },
  ],
});
const mail = (p: Parameters<typeof factsOf>[0]) => {
  const v = evaluate('mail', factsOf({ listener: 'sub', ...p }), snap);
  return v.action === 'continue' ? 'continue' : v.reply;
};

test('submission requires AUTH by default; mx does not', () => {
  assert.equal(mail({ mailFrom: 'alice@contoso.com' }), 'auth-required');
  assert.equal(mail({ listener: 'mx', mailFrom: 'alice@contoso.com' }), 'continue');
});

test('send-as: own address by default, case-insensitive', () => {
  assert.equal(mail({ authUser: 'alice@contoso.com', mailFrom: 'alice@contoso.com' }), 'continue');
  assert.equal(mail({ authUser: 'Alice@Contoso.com', mailFrom: 'ALICE@CONTOSO.COM' }), 'continue');
  assert.equal(mail({ authUser: 'alice@contoso.com', mailFrom: 'bob@contoso.com' }), 'send-as-denied');
});

test('send-as: @domain, exact address, *', () => {
  assert.equal(mail({ authUser: 'app', mailFrom: 'anyone@contoso.com' }), 'continue');
  assert.equal(mail({ authUser: 'app', mailFrom: 'anyone@sub.contoso.com' }), 'send-as-denied');
  assert.equal(mail({ authUser: 'app', mailFrom: 'noreply@fabrikam.com' }), 'continue');
  assert.equal(mail({ authUser: 'app', mailFrom: 'other@fabrikam.com' }), 'send-as-denied');
  assert.equal(mail({ authUser: 'root', mailFrom: 'x@anything.example' }), 'continue');
});

test('send-as: user without address and no list may use nothing; unknown user denied; <> allowed', () => {
  assert.equal(mail({ authUser: 'svc', mailFrom: 'svc@contoso.com' }), 'send-as-denied');
  assert.equal(mail({ authUser: 'ghost', mailFrom: 'ghost@contoso.com' }), 'send-as-denied');
  assert.equal(mail({ authUser: 'svc', mailFrom: '' }), 'continue');
});

test('send-as-denied vars name user and sender', () => {
  const v = evaluate('mail', factsOf({ listener: 'sub', authUser: 'app', mailFrom: 'x@y.org' }), snap);
  assert.deepEqual(v.action === 'reject' ? v.vars : undefined, { user: 'app', sender: 'x@y.org' });
  assert.deepEqual(v.attribution, { kind: 'authenticated', user: 'app' });
});

test('maySendAs directly', () => {
  assert.equal(maySendAs(undefined, ''), false);
  assert.equal(maySendAs({ name: 'u', sendAs: [] }, 'a@b.c'), false);
  assert.equal(maySendAs({ name: 'u', sendAs: ['*'] }, 'not-an-address'), true);
  assert.equal(maySendAs({ name: 'u', sendAs: ['@b.c'] }, 'not-an-address'), false);
});
