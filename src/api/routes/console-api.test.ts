/**
 * The routes the console's Trace and Rules pages read, through inject() with real tokens over a
 * real data directory (trace rows and RULE events written as the gateway writes them):
 * GET /api/v1/trace/:id with its timeline and explanation; GET /api/v1/rules/hits (Enforce hits,
 * Audit hits as would-have, a removed rule flagged, the window honoured); GET
 * /api/v1/rules/:name/would-have (count and latest messages for the Enforce confirmation); an
 * alert acknowledged with the token's name; 401 without a token, 403 for a change with a read token.
 * Touches: a temp data directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';
import { addRule } from '../../ops/rules.ts';
import { ensureTraceSchema, insertEventsSync, insertMessageSync, type TraceEvent, type TraceMessage } from '../../trace/index.ts';

const DAY = 86_400_000;

function message(id: string, at: number, extra: Partial<TraceMessage> = {}): TraceMessage {
  return { id, connectionId: `c-${id}`, receivedAt: at, clientIp: '192.0.2.10', listener: 'mx', recipients: ['a@contoso.com'], status: 'Delivered', mailFrom: 'printer@contoso.com', subject: `<b>${id}</b>`, attribution: 'direct-send', ...extra };
}

test('trace show: the message, its events oldest first, and the explanation; unknown id 404; no token 401', async () => {
  const f = await apiFixture();
  try {
    ensureTraceSchema(f.ctx.db);
    const now = Date.now();
    insertMessageSync(f.ctx.db, message('T1', now, { status: 'Quarantined', spf: 'fail smtp.mailfrom=contoso.com', dmarc: 'fail p=reject spf=0 dkim=0 header.from=contoso.com', compauth: 'fail reason=010' }));
    insertEventsSync(f.ctx.db, [
      { messageId: 'T1', at: now, event: 'RECEIVE', detail: '250 2.0.0 queued' },
      { messageId: 'T1', at: now + 1, event: 'RULE', detail: 'rule Hold DS mode=Enforce ran=quarantine' },
      { messageId: 'T1', at: now + 2, event: 'QUARANTINE', detail: 'rule Hold DS' },
    ]);
    const r = await f.call('read', { method: 'GET', url: '/api/v1/trace/T1' });
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json<{ message: TraceMessage; events: TraceEvent[]; explanation: { summary: string; lines: { topic: string; text: string }[] } }>();
    assert.equal(body.message.subject, '<b>T1</b>', 'returned as data, unescaped JSON');
    assert.equal(body.message.spf, 'fail smtp.mailfrom=contoso.com', 'the serializer keeps every column');
    assert.deepEqual(body.events.map((e) => e.event), ['RECEIVE', 'RULE', 'QUARANTINE']);
    assert.equal(body.explanation.summary, 'From 192.0.2.10 by Direct Send (anonymous, with your own domain as sender); Quarantined.');
    assert.match(body.explanation.lines.find((l) => l.topic === 'compauth')?.text ?? '', /reason 010: explicit DMARC failure for one of your own domains/);
    assert.equal((await f.call('read', { method: 'GET', url: '/api/v1/trace/NOPE' })).statusCode, 404);
    assert.equal((await f.call(undefined, { method: 'GET', url: '/api/v1/trace/T1' })).statusCode, 401);
    const search = await f.call('read', { method: 'GET', url: '/api/v1/trace?since=1h&sender=printer' });
    assert.deepEqual(search.json<TraceMessage[]>().map((m) => [m.id, m.attribution, m.compauth]), [['T1', 'direct-send', 'fail reason=010']]);
  } finally {
    await f.close();
  }
});

test('rule hits: Enforce hits, Audit hits as would-have, removed rules flagged, the window honoured; would-have lists the latest messages', async () => {
  const f = await apiFixture();
  try {
    const ctx = f.deps.ops('test');
    await addRule(ctx, { name: 'Hold DS', mode: 'Audit', conditions: { attributionIs: ['direct-send'] }, actions: { quarantine: true } });
    await addRule(ctx, { name: 'Tag 50%_off', mode: 'Enforce', conditions: {}, actions: { prependSubject: '[ext] ' } });
    ensureTraceSchema(f.ctx.db);
    const now = Date.now();
    const hits: TraceEvent[] = [];
    for (let i = 0; i < 3; i++) {
      insertMessageSync(f.ctx.db, message(`A${i}`, now - i * 1000));
      hits.push({ messageId: `A${i}`, at: now - i * 1000, event: 'RULE', detail: 'rule Hold DS mode=Audit ran=none would-have-run=quarantine' });
      hits.push({ messageId: `A${i}`, at: now - i * 1000, event: 'RULE', detail: 'rule Tag 50%_off mode=Enforce ran=prependSubject' });
    }
    insertMessageSync(f.ctx.db, message('OLD', now - 10 * DAY));
    hits.push({ messageId: 'OLD', at: now - 10 * DAY, event: 'RULE', detail: 'rule Hold DS mode=Audit ran=none would-have-run=quarantine' });
    hits.push({ messageId: 'A0', at: now, event: 'RULE', detail: 'rule Gone mode=Enforce ran=rejectMessage' });
    hits.push({ messageId: 'A0', at: now, event: 'RULE', detail: 'redirected from a@contoso.com to b@contoso.com' });
    // A name differing only where the other has LIKE wildcards is another rule.
    hits.push({ messageId: 'A0', at: now, event: 'RULE', detail: 'rule Tag 50%Xoff mode=Audit ran=none would-have-run=quarantine' });
    insertEventsSync(f.ctx.db, hits);

    const r = await f.call('read', { method: 'GET', url: '/api/v1/rules/hits' });
    assert.equal(r.statusCode, 200, r.body);
    const rows = r.json<{ rules: Array<{ name: string; mode: string; configured: boolean; enforced: number; wouldHave: number; wouldHaveActions: string[]; lastHit: string | null }> }>().rules;
    assert.deepEqual(
      rows.map((x) => [x.name, x.mode, x.configured, x.enforced, x.wouldHave, x.wouldHaveActions.join(',')]),
      [
        ['Hold DS', 'Audit', true, 0, 3, 'quarantine'],
        ['Tag 50%_off', 'Enforce', true, 3, 0, ''],
        ['Gone', 'Enforce', false, 1, 0, ''],
        ['Tag 50%Xoff', 'Audit', false, 0, 1, 'quarantine'],
      ],
    );
    assert.equal(rows[0]?.lastHit, new Date(now).toISOString());
    const month = await f.call('read', { method: 'GET', url: '/api/v1/rules/hits?since=30d' });
    assert.equal(month.json<{ rules: Array<{ wouldHave: number }> }>().rules[0]?.wouldHave, 4, 'the 10-day-old hit is in a 30-day window');
    assert.equal((await f.call('read', { method: 'GET', url: '/api/v1/rules/hits?since=yesterdayish' })).statusCode, 422);

    const w = await f.call('read', { method: 'GET', url: `/api/v1/rules/${encodeURIComponent('hold ds')}/would-have?limit=2` });
    assert.equal(w.statusCode, 200, w.body);
    const wh = w.json<{ rule: string; mode: string; wouldHave: number; actions: string[]; messages: Array<{ id: string; subject: string; mailFrom: string }> }>();
    assert.deepEqual([wh.rule, wh.mode, wh.wouldHave, wh.actions], ['Hold DS', 'Audit', 3, ['quarantine']]);
    assert.deepEqual(wh.messages.map((m) => [m.id, m.subject, m.mailFrom]), [['A0', '<b>A0</b>', 'printer@contoso.com'], ['A1', '<b>A1</b>', 'printer@contoso.com']]);
    const tag = await f.call('read', { method: 'GET', url: `/api/v1/rules/${encodeURIComponent('Tag 50%_off')}/would-have` });
    assert.deepEqual([tag.json<{ wouldHave: number }>().wouldHave, tag.json<{ messages: unknown[] }>().messages], [0, []], 'an Enforce rule has no would-have hits (the Audit look-alike "Tag 50%Xoff" is another rule)');
    assert.equal((await f.call('read', { method: 'GET', url: '/api/v1/rules/Nope/would-have' })).statusCode, 404);
    assert.equal((await f.call(undefined, { method: 'GET', url: '/api/v1/rules/hits' })).statusCode, 401);

    // The switch the confirmation leads to: admin only.
    const name = encodeURIComponent('Hold DS');
    assert.equal((await f.call('read', { method: 'PATCH', url: `/api/v1/rules/${name}`, payload: { mode: 'Enforce' } })).statusCode, 403);
    const sw = await f.call('admin', { method: 'PATCH', url: `/api/v1/rules/${name}`, payload: { mode: 'Enforce' } });
    assert.equal(sw.statusCode, 200, sw.body);
    assert.equal(typeof sw.json<{ version: number }>().version, 'number');
    const after = await f.call('read', { method: 'GET', url: '/api/v1/rules' });
    assert.equal(after.json<Array<{ name: string; mode: string }>>().find((x) => x.name === 'Hold DS')?.mode, 'Enforce');
  } finally {
    await f.close();
  }
});

test('alerts: the list carries every field (detail included); ack records the token name; read may not ack', async () => {
  const f = await apiFixture();
  try {
    const id = (await f.ctx.backing.alerts.raise({ kind: 'new-source', key: 'ip:198.51.100.7', summary: 'new Direct Send source <198.51.100.7>', detail: { ip: '198.51.100.7', n: 2 } }, Date.now()))?.id;
    const list = await f.call('read', { method: 'GET', url: '/api/v1/alerts' });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(list.json<Array<{ detail: unknown; summary: string; ackedBy: unknown }>>().map((a) => [a.summary, a.detail, a.ackedBy]), [['new Direct Send source <198.51.100.7>', { ip: '198.51.100.7', n: 2 }, null]]);
    assert.equal((await f.call('read', { method: 'POST', url: `/api/v1/alerts/${id}/ack` })).statusCode, 403);
    const ack = await f.call('operate', { method: 'POST', url: `/api/v1/alerts/${id}/ack` });
    assert.equal(ack.statusCode, 200, ack.body);
    assert.deepEqual([ack.json<{ state: string }>().state, ack.json<{ ackedBy: string }>().ackedBy], ['acked', 'operate']);
  } finally {
    await f.close();
  }
});
