/**
 * @module test/stores/trace-replay.test
 * Policy replay over every adapter (SQLite; PostgreSQL when present): the same rows give the same
 * replay report (changes, counts, attributions, replies, samples) and the same "Adopt as
 * connector" attribution shift as the per-row SQLite reference, whatever the store's grouping
 * and order. On a fleet node (ctx.trace) `policy replay` and the adopt preview read the fleet's
 * trace, not the node's empty local one.
 * Touches: temp directories; a PostgreSQL schema per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openContext } from '../../src/cli/context.ts';
import { compilePolicy, validateConfig, type Config } from '../../src/config/index.ts';
import { adoptPreview } from '../../src/ops/adopt.ts';
import { attributionShiftFrom } from '../../src/ops/adopt-replay.ts';
import { policyReplay } from '../../src/ops/policy.ts';
import { replayTraceFrom } from '../../src/ops/policy-replay.ts';
import { applySets } from '../../src/ops/replay-set.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import { ensureTraceSchema, type SequencedEvent, type TraceMessage } from '../../src/trace/index.ts';
import { reportWindow } from '../../src/trace/reports/index.ts';
import { tempTrace, traceRow, type RowSpec } from '../../src/trace/reports/test-rows.ts';
import { removeDir, tempDir } from '../helpers/gateway.ts';
import { replayTrace } from '../helpers/replay.ts';
import { traceAdapters } from '../helpers/trace-adapters.ts';

function config(over: Record<string, unknown> = {}): Config {
  return validateConfig({
    acceptedDomains: [{ domainName: 'example.com' }],
    receiveConnectors: [
      { name: 'mx', port: 2525, role: 'mx' },
      { name: 'relay', port: 2526, role: 'relay', defaultDeny: true },
      { name: 'submission', port: 2587, role: 'submission' },
    ],
    lists: { allow: { ips: [], senderDomains: [] }, block: { ips: ['127.0.0.66/32'], senderDomains: [] } },
    ...over,
  });
}

/** A varied trace: each variant three times, interleaved in time, with refusals, imports and rows outside the window. */
function rows(at: number): { messages: TraceMessage[]; events: SequencedEvent[] } {
  const variants: RowSpec[] = [
    {},
    { recipients: ['x@elsewhere.test'] },
    { clientIp: '127.0.0.5' },
    { clientIp: '127.0.0.9', mailFrom: 'bob@contoso.test', headerFrom: 'ceo@example.com', attribution: 'anonymous-external' },
    { clientIp: '127.0.0.9', mailFrom: 'bob@contoso.test', headerFrom: 'bob@contoso.test', attribution: 'anonymous-external' },
    { mailFrom: 'Printer@Example.com' },
    { mailFrom: undefined, recipients: [] },
    { recipients: ['user@example.com', 'other@example.com'] },
    { recipients: [] },
    { helo: '' },
    { helo: undefined },
    { tlsVersion: '' },
    { certCn: 'dev.partner.test', certVerified: true, tlsVersion: 'TLSv1.3' },
    { certCn: 'dev.partner.test', certVerified: false, tlsVersion: 'TLSv1.3' },
    { certCn: 'x.test', certSans: ['dev.partner.test'], certVerified: true, tlsVersion: 'TLSv1.3' },
    { clientIp: '127.0.0.6', tlsVersion: 'TLSv1.3' },
    { clientIp: '127.0.0.6' },
    { authUser: 'printer@example.com', listener: 'submission' },
    { listener: 'relay' },
    { clientIp: '127.0.0.66', status: 'Rejected' },
  ];
  const messages: TraceMessage[] = [];
  const events: SequencedEvent[] = [];
  let n = 0;
  for (let round = 0; round < 3; round++) {
    // Later rounds run backwards, so a source's earliest row is not the first variant read.
    const order = round === 1 ? [...variants].reverse() : variants;
    for (const v of order) {
      const m = traceRow({ receivedAt: at + n++, subject: round === 2 ? undefined : `s${n} "quoted"`, ...v });
      messages.push(m);
      if (round > 0 && v.recipients?.length === 0 && v.mailFrom !== undefined) events.push({ messageId: m.id, at: at + 1, event: 'REJECT', recipient: 'user@example.com', seq: n }, { messageId: m.id, at: at + 1, event: 'REJECT', recipient: 'a@example.com', seq: 1000 + n });
    }
  }
  messages.push(traceRow({ receivedAt: at + n++, source: 'import:exo' }), traceRow({ receivedAt: at - 3 * 86_400_000 }), traceRow({ receivedAt: at + n++, clientIp: '127.0.0.5', source: undefined }));
  return { messages, events };
}

const cur = config();
const cand = applySets(cur, [
  'org.rejectDirectSend=true',
  'org.rejectDirectSendHeaderFrom=true',
  'inboundConnectors=[{"name":"Cert","senderDomains":["example.com"],"tlsSenderCertificateName":"dev.partner.test"},{"name":"Ip","connectorType":"OnPremises","senderIPAddresses":["127.0.0.5/32"]},{"name":"Tls","senderDomains":["example.com"],"senderIPAddresses":["127.0.0.6/32"],"requireTls":true}]',
  'lists.block.ips=[]',
]);

for (const a of await traceAdapters()) {
  test(`${a.name}: policy replay and the adopt attribution shift equal the per-row SQLite reference over the same rows`, { skip: a.skip, timeout: 60_000 }, async (t) => {
    const store = await a.open(t);
    const ref = tempTrace();
    t.after(() => ref.close());
    const at = Date.now() - 3_600_000;
    const batch = rows(at);
    await store.write(batch);
    await sqliteTraceStore(ref.db).write(batch);
    const w = reportWindow('1d', Date.now(), 90);
    const [now, next] = [compilePolicy(cur, 1), compilePolicy(cand, 0)];
    for (const samples of [0, 2, 3]) {
      const expected = replayTrace(ref.db, w, now, next, samples, { memo: false });
      assert.deepEqual(await replayTraceFrom(store, w, now, next, samples), expected, `samples ${samples}`);
      // The grouped SQLite replay (the fast path) is the same too.
      assert.deepEqual(replayTrace(ref.db, w, now, next, samples), expected);
    }
    const r = await replayTraceFrom(store, w, now, next);
    assert.equal(r.replayed, 61, 'gateway rows of the window (and a row without source), not imports or older rows');
    assert.ok(r.changes.length >= 3, `several sources change: ${r.changes.map((c) => `${c.change} ${c.clientIp} ${c.sender}`).join('; ')}`);
    assert.ok(r.changes.some((c) => c.samples.length === 3 && c.samples.some((s) => s.includes('"s'))), 'samples with subjects');

    for (const match of [{ ips: ['127.0.0.5'] }, { ips: ['127.0.0.2'], certCn: 'dev.partner.test' }, { ips: ['127.0.0.6', '127.0.0.6'] }]) {
      for (const name of ['Cert', 'Ip', 'Tls']) {
        const expected = await attributionShiftFrom(sqliteTraceStore(ref.db), w, now, next, match, name);
        assert.deepEqual(await attributionShiftFrom(store, w, now, next, match, name), expected, `${JSON.stringify(match)} ${name}`);
      }
    }
    assert.equal((await attributionShiftFrom(sqliteTraceStore(ref.db), w, now, next, { ips: ['127.0.0.5'] }, 'Ip')).toConnector, 4);
  });
}

for (const a of (await traceAdapters()).filter((x) => x.name === 'postgres')) {
  test('fleet node: policy replay and the adopt preview read the fleet trace, not the empty local one', { skip: a.skip, timeout: 60_000 }, async (t) => {
    const fleet = await a.open(t);
    const dir = tempDir('mailgate-freplay-');
    const c = openContext({ data: dir, create: true });
    t.after(() => {
      c.close();
      removeDir(dir);
    });
    ensureTraceSchema(c.db);
    await fleet.write({ messages: [traceRow({ clientIp: 'fd00::25', mailFrom: 'app@example.com', helo: 'app.example.com', subject: 'report' })], events: [] });
    const ctx = { db: c.db, store: c.store, dataDir: c.dataDir, actor: 'alice', trace: fleet };
    const w = reportWindow('1d', Date.now(), 90);
    const replay = await policyReplay(ctx, { window: w, set: ['org.rejectDirectSend=true'] }, (key) => key);
    assert.equal(replay.replayed, 1);
    assert.equal(replay.changes[0]?.change, 'newly rejected');
    const local = await policyReplay({ ...ctx, trace: sqliteTraceStore(c.db) }, { window: w, set: ['org.rejectDirectSend=true'] }, (key) => key);
    assert.equal(local.replayed, 0, 'the local trace is empty');
    const preview = await adoptPreview(ctx, { clientIp: 'fd00::25', sender: 'app@example.com', spf: 'v=spf1 -all' });
    assert.equal(preview.replay.replayed, 1);
    assert.equal(preview.replay.attribution.messages, 1);
    assert.equal(preview.replay.attribution.toConnector, 1);
    assert.match(preview.replay.attribution.samples[0] ?? '', /"report"$/);
  });
}
