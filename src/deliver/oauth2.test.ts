/**
 * @module deliver/oauth2.test
 * XOAUTH2 submission against a real OAuth 2.0 server on loopback (oauth2-mock-server: signed JWTs
 * from its token endpoint, checking the client secret like Entra) and an smtp-server next hop that
 * accepts only XOAUTH2 and verifies each token's signature against the server's JWKS, its issuer,
 * audience and expiry (jose): mail is delivered; a wrong secret defers with the endpoint's reason;
 * one token serves many messages and a new one is fetched after expiry; a refused token is renewed
 * once (nodemailer's retry after 535).
 * Touches: loopback sockets, a temp secret file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { SMTPServer } from 'smtp-server';
import { routeSchema, type Route } from '../config/schema.ts';
import type { DeliveryRequest } from '../queue/contract.ts';
import { TokenCache } from './oauth2.ts';
import { createSmtpClient, type SmtpClient } from './smtp.ts';

const SECRET = 'right-secret';
const AUDIENCE = 'https://outlook.office365.com';
const MAILBOX = 'scanner@contoso.com';

let oauth: OAuth2Server;
let tokenRequests = 0;
let smtp: SMTPServer;
let smtpPort = 0;
const delivered: string[] = [];
/** Refuse the next token although valid, as Exchange does a revoked one (to force the 535 → renew path). */
let refuse = 0;

before(async () => {
  oauth = new OAuth2Server();
  await oauth.issuer.keys.generate('RS256');
  await oauth.start(0, '127.0.0.1');
  oauth.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: IncomingMessage & { body: Record<string, string> }) => {
    token.payload.aud = AUDIENCE; // what Entra puts in a token for the outlook.office365.com scope
    token.payload.appid = req.body.client_id;
  });
  oauth.service.on('beforeResponse', (res: { statusCode: number; body: unknown }, req: IncomingMessage & { body: Record<string, string> }) => {
    tokenRequests++;
    if (req.body.client_secret !== SECRET || req.body.scope !== `${AUDIENCE}/.default`) {
      res.statusCode = 401;
      res.body = { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' };
    }
  });
  const jwks = createRemoteJWKSet(new URL(`${oauth.issuer.url}/jwks`));
  smtp = new SMTPServer({
    authMethods: ['XOAUTH2'],
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, cb) {
      const token = auth.accessToken ?? '';
      const fail = (): void => cb(Object.assign(new Error('5.7.3 Authentication unsuccessful'), { responseCode: 535 }));
      if (auth.method !== 'XOAUTH2' || auth.username !== MAILBOX) return fail();
      if (refuse > 0) {
        refuse--;
        return fail();
      }
      jwtVerify(token, jwks, { issuer: oauth.issuer.url ?? '', audience: AUDIENCE }).then(() => cb(null, { user: MAILBOX }), fail);
    },
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        delivered.push(session.envelope.rcptTo.map((r) => r.address).join(','));
        cb();
      });
    },
  });
  await new Promise<void>((res) => smtp.listen(0, '127.0.0.1', res));
  const a = smtp.server.address();
  smtpPort = typeof a === 'object' && a ? a.port : 0;
});

const clients: SmtpClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.closeAll()));
  await new Promise<void>((res) => smtp.close(() => res()));
  await oauth.stop();
});

function route(secret: string, name: string): Route {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-oauth-'));
  writeFileSync(join(dir, 'secret'), `${secret}\n`, { mode: 0o600 });
  return routeSchema.parse({
    name, domains: ['*'], type: 'smtp', host: '127.0.0.1', port: smtpPort, tls: 'none',
    oauth2: { user: MAILBOX, tenantId: 'contoso.onmicrosoft.com', clientId: 'app-1', clientSecretFile: join(dir, 'secret'), tokenEndpoint: `${oauth.issuer.url}/token` },
  });
}

function request(rcpt: string): DeliveryRequest {
  const raw = 'From: scanner@contoso.com\r\nSubject: scan\r\n\r\npage\r\n';
  return {
    queueId: '01TESTOAUTH0000000', mailFrom: MAILBOX, recipients: [rcpt], attempt: 1,
    meta: { id: '01TESTOAUTH0000000', receivedAt: 0, envelope: { mailFrom: MAILBOX, rcptTo: [rcpt] }, size: raw.length, prependHeaders: '', facts: {} },
    openMessage: () => Readable.from([Buffer.from(raw)]),
  };
}

function client(tokens: TokenCache): SmtpClient {
  const c = createSmtpClient({ hostname: 'mailgate.test', resolveMx: async () => [], tokens, timeouts: { connection: 3000, greeting: 3000, socket: 5000 } });
  clients.push(c);
  return c;
}

test('XOAUTH2 with a client-credentials token: delivered; one token for many messages, a new one after expiry', async () => {
  let clock = Date.now();
  const tokens = new TokenCache(undefined, () => clock);
  const c = client(tokens);
  const r = route(SECRET, 'exo-ok');
  const before = tokenRequests;
  for (let i = 0; i < 5; i++) {
    const [o] = await c.deliverSmtp(r, request(`u${i}@contoso.com`), [`u${i}@contoso.com`]);
    assert.equal(o?.status, 'delivered', o?.reply);
  }
  const many = await Promise.all([5, 6, 7].map((i) => c.deliverSmtp(r, request(`u${i}@contoso.com`), [`u${i}@contoso.com`])));
  assert.deepEqual(many.flat().map((o) => o.status), ['delivered', 'delivered', 'delivered']);
  assert.equal(tokenRequests - before, 1, 'one token for eight messages');
  // The endpoint said expires_in 3600: an hour on, the cached token is stale and a new one is fetched.
  clock += 3_600_000;
  await c.closeAll(); // pooled connections stay authenticated; a new connection needs a token
  const [late] = await c.deliverSmtp(r, request('late@contoso.com'), ['late@contoso.com']);
  assert.equal(late?.status, 'delivered', late?.reply);
  assert.equal(tokenRequests - before, 2);
  assert.ok(delivered.includes('late@contoso.com'));
});

test('a wrong client secret defers with the token endpoint\'s reason, and nothing is sent', async () => {
  const c = client(new TokenCache());
  const [o] = await c.deliverSmtp(route('wrong-secret', 'exo-bad'), request('nope@contoso.com'), ['nope@contoso.com']);
  assert.equal(o?.status, 'deferred');
  assert.equal(o?.enhanced, '4.7.0');
  assert.match(o?.reply ?? '', /authentication to the next hop failed: .*HTTP 401.*invalid_client: AADSTS7000215: Invalid client secret provided/);
  assert.ok(!delivered.includes('nope@contoso.com'));
});

test('a token refused with 535 is renewed once, then the message goes', async () => {
  const c = client(new TokenCache());
  const before = tokenRequests;
  refuse = 1;
  const [o] = await c.deliverSmtp(route(SECRET, 'exo-renew'), request('renew@contoso.com'), ['renew@contoso.com']);
  assert.equal(o?.status, 'delivered', o?.reply);
  assert.equal(tokenRequests - before, 2, 'the refused token was replaced by a fresh one');
  // Refused again after the renewal: deferred with Exchange's reply, after exactly one renewal.
  refuse = 2;
  const [again] = await c.deliverSmtp(route(SECRET, 'exo-renew2'), request('again@contoso.com'), ['again@contoso.com']);
  assert.equal(again?.status, 'deferred');
  assert.match(again?.reply ?? '', /535 5\.7\.3 Authentication unsuccessful/);
  assert.equal(tokenRequests - before, 4, 'one token, one renewal');
  refuse = 0;
});
