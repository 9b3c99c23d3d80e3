/**
 * @module test/fleet/pg-restart.test
 * The machine's PostgreSQL stopped and started again under two running nodes: they keep taking
 * mail on the configuration in force and report the store down; a change tried during the outage
 * is refused with exit 1 (nothing half-saved); a change saved the moment PostgreSQL is back — before
 * the nodes' LISTEN connections return, so no notification reaches them — is in force on both once
 * they reconnect and catch up. Stopping PostgreSQL disturbs every other test using it, so this
 * runs only with MAILGATE_PG_FAULT=1 (alone: `MAILGATE_PG_FAULT=1 node scripts/run-tests.mjs
 * test/fleet/pg-restart`), as root with pg_ctlcluster; PostgreSQL is started again whatever happens.
 * Touches: the machine's PostgreSQL cluster 15/main (stop, start), two gateway processes,
 * loopback ports, temporary data dirs, one mg_t_* schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pgSchema, pgSkip } from '../helpers/postgres.ts';
import { cli, freePort, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { SmtpTestClient } from '../helpers/smtp-client.ts';
import { PgConfigStore } from '../../src/stores/postgres/config-store.ts';
import { openPool } from '../../src/stores/postgres/pool.ts';

const CLUSTER = ['15', 'main'];
function hasCtl(): boolean {
  return spawnSync('pg_ctlcluster', ['--help'], { encoding: 'utf8' }).error === undefined && process.getuid?.() === 0;
}
const skip =
  process.env.MAILGATE_PG_FAULT !== '1'
    ? 'stops the machine\'s PostgreSQL: runs only with MAILGATE_PG_FAULT=1'
    : ((await pgSkip()) || (hasCtl() ? false : 'needs pg_ctlcluster and root'));

function ctl(action: 'stop' | 'start'): void {
  const r = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...CLUSTER, action], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 && !(action === 'start' && /already running/.test(r.stderr))) throw new Error(`pg_ctlcluster ${action}: ${r.stderr}`);
}

async function rcptReply(port: number): Promise<string> {
  const c = await SmtpTestClient.connect({ port });
  try {
    await c.cmd('EHLO printer.test');
    await c.cmd('MAIL FROM:<printer@example.com>');
    return (await c.cmd('RCPT TO:<user@example.com>')).text;
  } finally {
    await c.quit();
  }
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
  for (const name of ['pa', 'pb']) nodes.push({ name, dir: tempDir(`mailgate-pgfault-${name}-`), mx: await freePort(), admin: await freePort() });
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.gw?.stop()));
    for (const n of nodes) removeDir(n.dir);
  });
  for (const n of nodes) assert.equal(cli(n.dir, ['init', '--store', s.url, '--schema', s.schema]).code, 0);
  await Promise.all(
    nodes.map(async (n) => {
      const sub = await freePort();
      n.gw = await startGateway(n.dir, [n.mx, n.admin], { args: ['--node', n.name, '--listen', `mx=127.0.0.1:${n.mx}`, '--listen', `submission=127.0.0.1:${sub}`, '--listen', `admin=127.0.0.1:${n.admin}`] });
    }),
  );
  const metric = (n: (typeof nodes)[number]): Promise<string> => fetch(`http://127.0.0.1:${n.admin}/metrics`).then((r) => r.text());
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
  } finally {
    ctl('start');
  }
  const pool = openPool({ url: s.url, schema: s.schema });
  t.after(() => pool.end());
  const saved = await until('PostgreSQL back', 60_000, () =>
    new PgConfigStore({ pool, url: s.url, schema: s.schema }).update('admin', 'saved as the store returned', (d) => void (d.organization.rejectDirectSend = true)),
  );
  assert.equal(saved, 2, 'the change refused during the outage left nothing behind');
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
