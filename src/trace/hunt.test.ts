/** Hunt: refusals (writes, several statements, ATTACH, PRAGMA writes, length), limits, saved queries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HUNT_MAX_QUERY, HuntRefused, runHunt, runHuntSync, SAVED_HUNTS } from './hunt.ts';
import { addRow, tempTrace } from './reports/test-rows.ts';
import { SqliteConfigStore } from '../stores/sqlite/config-store.ts';
import { defaultConfig } from '../config/load.ts';

const refused = (re: RegExp) => (e: unknown) => e instanceof HuntRefused && re.test(e.message);

test('hunt: anything but one read-only SELECT is refused, and the trace is unchanged', async () => {
  const t = tempTrace();
  try {
    addRow(t.db, {});
    const cases: [string, RegExp][] = [
      ["INSERT INTO trace_message (id) VALUES ('x')", /only a single SELECT/],
      ['DELETE FROM trace_message', /only a single SELECT/],
      ['UPDATE trace_message SET status = 1', /only a single SELECT/],
      ['SELECT 1; DELETE FROM trace_message', /more than one statement/],
      ['select id from trace_message;\nDROP TABLE trace_event', /more than one statement/],
      ["ATTACH DATABASE '/tmp/x.db' AS x", /only a single SELECT/],
      ['PRAGMA query_only = 0', /only a single SELECT/],
      ['PRAGMA user_version = 7', /only a single SELECT/],
      ['WITH x AS (SELECT 1) DELETE FROM trace_message', /read-only SELECT/],
      ['/* hi */ VACUUM', /only a single SELECT/],
      ['SELECT ' + '1 + '.repeat(HUNT_MAX_QUERY) + '1', new RegExp(`the limit is ${HUNT_MAX_QUERY}`)],
      ['   ', /empty query/],
    ];
    for (const [sql, re] of cases) {
      assert.throws(() => runHuntSync(t.file, sql, 10), refused(re), sql.slice(0, 60));
    }
    await assert.rejects(runHunt(t.file, 'SELECT 1; DELETE FROM trace_message'), refused(/more than one statement/));
    await assert.rejects(runHunt(t.file, 'DELETE FROM trace_message'), refused(/only a single SELECT/));
    await assert.rejects(runHunt(t.file, "SELECT load_extension('/tmp/nothing')"), /not authorized/);
    const n = t.db.prepare('SELECT count(*) AS n FROM trace_message').get() as { n: number };
    assert.equal(n.n, 1);
  } finally {
    t.close();
  }
});

test('hunt: row limit, time limit (the child is killed), comments before SELECT', async () => {
  const t = tempTrace();
  try {
    for (let i = 0; i < 5; i++) addRow(t.db, {});
    const r = await runHunt(t.file, '-- all\nSELECT id FROM trace_message ORDER BY id', { limit: 3 });
    assert.deepEqual(r.columns, ['id']);
    assert.equal(r.rows.length, 3);
    assert.equal(r.truncated, true);
    const started = Date.now();
    await assert.rejects(
      runHunt(t.file, 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c', { timeoutMs: 800 }),
      refused(/time limit of 800 ms/),
    );
    assert.ok(Date.now() - started < 5000);
  } finally {
    t.close();
  }
});

test('hunt: saved queries return the expected rows', async () => {
  const t = tempTrace();
  try {
    const db = t.db;
    const now = Date.now();
    const old = now - 5 * 86_400_000;
    addRow(db, { id: 'A1', clientIp: '203.0.113.9', mailFrom: 'ceo@example.com', auth: { spf: 'fail', dkim: 'none', dmarc: 'fail' }, receivedAt: old });
    addRow(db, { id: 'A2', clientIp: '203.0.113.9', mailFrom: 'CEO@example.com', auth: { spf: 'softfail', dkim: 'fail', dmarc: 'fail' }, receivedAt: now - 1000 });
    addRow(db, { id: 'B1', clientIp: '10.0.0.5', mailFrom: 'printer@example.com', receivedAt: old });
    addRow(db, { id: 'B2', clientIp: '::ffff:172.20.1.1', mailFrom: 'printer@example.com', receivedAt: old });
    addRow(db, { id: 'C1', clientIp: '192.0.2.50', mailFrom: 'bob@contoso.test', attribution: 'anonymous-external', auth: { spf: 'pass', dkim: 'pass', dmarc: 'fail' }, receivedAt: now - 2000 });
    addRow(db, { id: 'D1', clientIp: '198.51.100.3', attribution: 'connector', connector: 'Partner X', connectorType: 'Partner', auth: { dmarc: 'fail' }, receivedAt: now - 3000 });
    addRow(db, { id: 'E1', clientIp: '172.32.0.1', mailFrom: 'app@example.com', status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; x', receivedAt: old });

    const run = async (name: string) => (await runHunt(t.file, SAVED_HUNTS[name]?.sql ?? '')).rows;
    assert.deepEqual((await run('no-connector-dmarc-fail')).map((r) => r.id), ['A2', 'C1', 'A1']);
    assert.deepEqual(
      (await run('direct-send-external')).map((r) => `${String(r.client_ip)} ${String(r.sender)} ${String(r.messages)}`),
      ['203.0.113.9 ceo@example.com 2', '172.32.0.1 app@example.com 1'],
    );
    assert.deepEqual((await run('new-anonymous-sources')).map((r) => r.client_ip), ['192.0.2.50']);
    const spoof = await run('spoof-suspects');
    assert.deepEqual(spoof.map((r) => [r.client_ip, r.sender, r.messages, r.dkim_pass]), [['203.0.113.9', 'ceo@example.com', 2, 0]]);
  } finally {
    t.close();
  }
});

test('hunt: reads the trace tables only — never the configuration (users and their password hashes) or anything else', async () => {
  const t = tempTrace();
  try {
    addRow(t.db, {});
    const cfg = defaultConfig();
    cfg.users.push({ name: 'alice@example.com', passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA', sendAs: [] });
    new SqliteConfigStore(t.db).saveNow(cfg, 'test', 'with a user');
    t.db.exec("CREATE TABLE users (name TEXT, hash TEXT); INSERT INTO users VALUES ('alice', 'scrypt$x')");
    const cases = [
      'SELECT * FROM users',
      'SELECT * FROM config_version',
      'SELECT yaml FROM config_version ORDER BY version DESC LIMIT 1',
      'SELECT id, (SELECT yaml FROM config_version LIMIT 1) AS leak FROM trace_message',
      'WITH c AS (SELECT yaml FROM config_version) SELECT * FROM trace_message, c',
      'SELECT m.id FROM trace_message m JOIN users u ON 1',
      'SELECT * FROM trace_message UNION ALL SELECT * FROM trace_message WHERE EXISTS (SELECT 1 FROM config_version)',
      'SELECT count(*) FROM config_version',
      'SELECT sql FROM sqlite_schema',
      'SELECT * FROM sqlite_sequence',
    ];
    for (const sql of cases) assert.throws(() => runHuntSync(t.file, sql, 10), refused(/hunts read only the trace/), sql);
    await assert.rejects(runHunt(t.file, 'SELECT yaml FROM config_version'), refused(/not config_version/));
    // the trace itself, its indexes, joins between its tables and JSON functions still work
    assert.equal(runHuntSync(t.file, 'SELECT count(*) AS n FROM trace_message', 10).rows[0]?.n, 1);
    assert.equal(runHuntSync(t.file, "SELECT id FROM trace_message WHERE mail_from = 'x' OR attribution = 'direct-send'", 10).rows.length >= 0, true);
    runHuntSync(t.file, 'SELECT m.id, e.event FROM trace_message m LEFT JOIN trace_event e ON e.message_id = m.id', 10);
    runHuntSync(t.file, "SELECT value FROM json_each('[1,2]')", 10);
    for (const [name, h] of Object.entries(SAVED_HUNTS)) assert.doesNotThrow(() => runHuntSync(t.file, h.sql, 10), name);
  } finally {
    t.close();
  }
});
