/**
 * @module test/fleet/pg-restart.test
 * The machine's PostgreSQL stopped and started again under two running nodes in the middle of a
 * bounded load (40 messages across both): every message that got a 250 reaches the next hop exactly
 * once and has exactly one row in the fleet's trace once the outboxes catch up; the nodes keep taking
 * mail on the configuration in force and report the store down; a change tried during the outage
 * is refused with exit 1 (nothing half-saved); a change saved the moment PostgreSQL is back — before
 * the nodes' LISTEN connections return, so no notification reaches them — is in force on both once
 * they reconnect and catch up. Stopping PostgreSQL disturbs every other test using it, so the file
 * is `*.alone.test.ts` (scripts/run-tests.mjs runs it after the others, by itself), and it runs
 * under CI or with MAILGATE_PG_FAULT=1 (`MAILGATE_PG_FAULT=1 node scripts/run-tests.mjs
 * test/fleet/pg-restart`), as root with pg_ctlcluster; PostgreSQL is started again whatever happens.
 * Touches: the machine's PostgreSQL cluster 15/main (stop, start), two gateway processes, a
 * loopback sink, loopback ports, temporary data dirs, one mg_t_* schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pgSchema, pgSkip } from '../helpers/postgres.ts';
import { cli, nextHopRoute, removeDir, startFleetNode, tempDir, type Gateway } from '../helpers/gateway.ts';
import { startSink } from '../helpers/sink.ts';
import { rcptReply, sendDirect } from '../helpers/direct-send.ts';
import { PgConfigStore } from '../../src/stores/postgres/config-store.ts';
import { openPool } from '../../src/stores/postgres/pool.ts';

const CLUSTER = ['15', 'main'];
function hasCtl(): boolean {
  return spawnSync('pg_ctlcluster', ['--help'], { encoding: 'utf8' }).error === undefined && process.getuid?.() === 0;
}
const skip =
  process.env.MAILGATE_PG_FAULT !== '1' && process.env.CI !== 'true'
    ? 'stops the machine\'s PostgreSQL: runs only under CI or with MAILGATE_PG_FAULT=1'
    : ((await pgSkip()) || (hasCtl() ? false : 'needs pg_ctlcluster and root'));

function ctl(action: 'stop' | 'start'): void {
  const r = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...CLUSTER, action], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 && !(action === 'start' && /already running/.test(r.stderr))) throw new Error(`pg_ctlcluster ${action}: ${r.stderr}`);
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('PostgreSQL stopped and started under two nodes: mail goes on, the change saved at its return is in force on both', { skip, timeout: 300_000 }, async (t) => {
  const s = await pgSchema(t);
  const nodes: Array<{ name: string; dir: string; mx: number; admin: number; gw?: Gateway }> = [];
  for (const name of ['pa', 'pb']) nodes.push({ name, dir: tempDir(`mailgate-pgfault-${name}-`), mx: 0, admin: 0 });
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.gw?.stop()));
    for (const n of nodes) removeDir(n.dir);
  });
  const sink = await startSink();
  t.after(() => sink.close());
  for (const n of nodes) assert.equal(cli(n.dir, ['init', '--store', s.url, '--schema', s.schema]).code, 0);
  // Mail leaves for the loopback sink (the example configuration drops it in a pickup folder).
  await new PgConfigStore({ pool: s.pool, url: s.url, schema: s.schema }).update('test', 'route to the sink', (d) => void (d.routes = [nextHopRoute(sink.port) as (typeof d.routes)[number]]));
  await Promise.all(
    nodes.map(async (n) => {
      const started = await startFleetNode(n.dir, n.name);
      Object.assign(n, { gw: started.gw, mx: started.mx, admin: started.admin });
    }),
  );
  const metric = (n: (typeof nodes)[number]): Promise<string> => fetch(`http://127.0.0.1:${n.admin}/metrics`).then((r) => r.text());
  // A bounded load across both nodes that runs before, through and after the stop.
  const LOAD = 40;
  const accepted: string[] = [];
  const replies: string[] = [];
  let sent = 0;
  const load = (async () => {
    for (; sent < LOAD; sent++) {
      const subject = `load-${sent}`;
      const reply = await sendDirect(nodes[sent % 2]!.mx, 'printer@example.com', subject);
      replies.push(`${subject}: ${reply}`);
      if (reply.startsWith('250')) accepted.push(subject);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await until('the load under way', 60_000, async () => (sent >= 10 ? true : undefined));
  // The test's own pool goes down with the server: a fresh one afterwards.
  await s.pool.end();
  try {
    ctl('stop');
    for (const n of nodes) {
      await until(`${n.name} reports the store down`, 30_000, async () => (/^mailgate_config_store_up 0$/m.test(await metric(n)) ? true : undefined));
      assert.match(await rcptReply(n.mx), /^250/, `${n.name} takes mail on the configuration in force`);
    }
    const refused = cli(nodes[0]!.dir, ['org', 'set', '--reject-direct-send', 'true']);
    assert.equal(refused.code, 1, `a change while the store is down fails: ${refused.stdout}${refused.stderr}`);
    await load;
  } finally {
    ctl('start');
  }
  assert.equal(accepted.length, LOAD, `every message of the load was accepted, the outage included:\n${replies.join('\n')}`);
  const pool = openPool({ url: s.url, schema: s.schema });
  t.after(() => pool.end());
  const saved = await until('PostgreSQL back', 60_000, () =>
    new PgConfigStore({ pool, url: s.url, schema: s.schema }).update('admin', 'saved as the store returned', (d) => void (d.organization.rejectDirectSend = true)),
  );
  assert.equal(saved, 3, 'the change refused during the outage left nothing behind');

  // Every 250 delivered exactly once, and traced exactly once in the fleet's trace.
  const subjectOf = (raw: string): string => /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '';
  await until('every accepted message at the next hop', 60_000, async () => (new Set(sink.messages.map((m) => subjectOf(m.raw))).size >= LOAD ? true : undefined));
  await new Promise((r) => setTimeout(r, 1000)); // room for a duplicate to show up
  const delivered = sink.messages.map((m) => subjectOf(m.raw)).filter((x) => x.startsWith('load-')).sort();
  assert.deepEqual(delivered, [...accepted].sort(), 'each accepted message delivered once');
  const traced = await until('the outboxes caught up', 60_000, async () => {
    const r = await pool.query<{ subject: string; n: string }>(`SELECT subject, count(*) AS n FROM trace_message WHERE subject LIKE 'load-%' GROUP BY subject`);
    return r.rows.length >= LOAD ? r.rows : undefined;
  });
  assert.deepEqual(traced.map((r) => r.subject).sort(), [...accepted].sort(), 'one trace row per accepted message, none lost');
  assert.ok(traced.every((r) => Number(r.n) === 1), `no trace row twice: ${JSON.stringify(traced.filter((r) => Number(r.n) !== 1))}`);
  for (const n of nodes) {
    const r = await until(`${n.name} enforces version 2`, 30_000, async () => {
      const text = await rcptReply(n.mx);
      return text.startsWith('550') ? text : undefined;
    });
    assert.match(r, /^550 5\.7\.68 /);
    await until(`${n.name} reports the store up`, 30_000, async () => (/^mailgate_config_store_up 1$/m.test(await metric(n)) ? true : undefined));
    assert.equal(n.gw?.log().match(/configuration store unreachable/g)?.length, 1, `${n.name} said it once`);
  }
});
