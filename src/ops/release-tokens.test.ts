/**
 * Release-link tokens (release-tokens.ts) and their single use (quarantine-requests.ts): a token
 * verifies with its key only; any changed byte, another key, or a date past its expiry refuses it;
 * the key is made once, 0600, and kept; a used token cannot be used again; a message quarantined
 * as malware cannot be requested; a GET-style describe records nothing.
 * Touches: a temp data directory (key file, SQLite, spool).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.ts';
import { newQueueId } from '../core/ids.ts';
import { openContext } from '../cli/context.ts';
import { QueueStore, Spool, createAcceptor, type QuarantineReason } from '../queue/index.ts';
import { ReleaseRequests } from '../queue/release-requests.ts';
import { OpsError } from './errors.ts';
import { describeRequest, requestLink, requestRelease } from './quarantine-requests.ts';
import { signToken, tokenKey, verifyToken } from './release-tokens.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';

const NOW = 1_800_000_000_000;

function withData(fn: (data: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mailgate-tokens-'));
  return fn(join(root, 'data')).finally(() => rmSync(root, { recursive: true, force: true }));
}

const refused = (fn: () => unknown, kind: OpsError['kind'], msg: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof OpsError && e.kind === kind && msg.test(e.message));

test('a token verifies with its key; tampered, foreign-keyed or expired tokens are refused', async () => {
  await withData(async (data) => {
    const ctx = openContext({ data, create: true });
    ctx.close();
    const key = tokenKey(data);
    assert.equal(statSync(join(data, 'quarantine-token.key')).mode & 0o777, 0o600);
    assert.deepEqual(tokenKey(data), key, 'made once, then kept');
    const token = signToken(key, { id: 'Q1', rcpt: 'user@example.com', exp: NOW + 1000, nonce: 'n1' });
    assert.deepEqual(verifyToken(key, token, NOW), { id: 'Q1', rcpt: 'user@example.com', exp: NOW + 1000, nonce: 'n1' });
    const [payload = '', sig = ''] = token.split('.');
    // Another recipient in the payload, the old signature: refused.
    const forged = Buffer.from(JSON.stringify({ id: 'Q1', rcpt: 'attacker@example.net', exp: NOW + 1000, nonce: 'n1' })).toString('base64url');
    refused(() => verifyToken(key, `${forged}.${sig}`, NOW), 'forbidden', /not valid/);
    for (let i = 0; i < token.length; i += 7) {
      const c = token[i] === 'A' ? 'B' : 'A';
      const changed = token.slice(0, i) + c + token.slice(i + 1);
      if (changed !== token) refused(() => verifyToken(key, changed, NOW), 'forbidden', /not valid/);
    }
    refused(() => verifyToken(Buffer.alloc(32, 7), token, NOW), 'forbidden', /not valid/);
    refused(() => verifyToken(key, `${payload}`, NOW), 'forbidden', /not valid/);
    refused(() => verifyToken(key, token, NOW + 1001), 'forbidden', /expired/);
  });
});

async function held(data: string, reason: QuarantineReason): Promise<string> {
  const ctx = openContext({ data, create: true });
  try {
    const spool = new Spool(join(data, 'spool'), { journal: false });
    await spool.init();
    const acceptor = createAcceptor({ spool, store: new QueueStore(ctx.db), clock: systemClock });
    return await acceptor.acceptBytes(
      Buffer.from('From: a@shop.test\r\nSubject: hi\r\n\r\nbody\r\n'),
      { id: newQueueId(), receivedAt: NOW, envelope: { mailFrom: 'a@shop.test', rcptTo: ['user@example.com'] }, prependHeaders: '', facts: { subject: 'hi', quarantine: reason } },
      'hold',
    );
  } finally {
    ctx.close();
  }
}

test('a link is used once: describe records nothing, the first request is recorded, a reuse is refused; malware cannot be requested', async () => {
  await withData(async (data) => {
    const id = await held(data, { kind: 'dmarc', text: 'DMARC p=quarantine of shop.test' });
    const bad = await held(data, { kind: 'malware', text: 'malware' });
    const c = openContext({ data });
    const ctx = { db: c.db, store: c.store, dataDir: data, actor: 'test', trace: sqliteTraceStore(c.db) };
    try {
      const token = (link: string): string => link.slice(link.lastIndexOf('/') + 1);
      const t = token(requestLink(ctx, 'http://127.0.0.1:8025', id, 'user@example.com', Date.now()));
      assert.equal(describeRequest(ctx, t).subject, 'hi');
      assert.equal(describeRequest(ctx, t).queueId, id, 'describing twice is fine: a GET records nothing');
      const r = requestRelease(ctx, t);
      assert.equal(r.state, 'pending');
      refused(() => requestRelease(ctx, t), 'conflict', /used already/);
      refused(() => describeRequest(ctx, t), 'conflict', /used already/);
      assert.equal(new ReleaseRequests(c.db).list().length, 1);
      const m = token(requestLink(ctx, 'http://127.0.0.1:8025', bad, 'user@example.com', Date.now()));
      refused(() => requestRelease(ctx, m), 'forbidden', /malware/);
      const other = token(requestLink(ctx, 'http://127.0.0.1:8025', id, 'someone@example.com', Date.now()));
      refused(() => requestRelease(ctx, other), 'not-found', /no longer in quarantine/);
    } finally {
      c.close();
    }
  });
});
