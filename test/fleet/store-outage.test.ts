/**
 * @module test/fleet/store-outage.test
 * A node that loses its PostgreSQL store keeps taking mail on the configuration in force, says
 * so once in its log and as `mailgate_config_store_up 0`, and once the store is back loads the
 * version saved meanwhile; restarted while the store is away, it starts on the version it last ran.
 * The outage is a TCP forwarder between the node and the machine's
 * PostgreSQL that the test cuts (PostgreSQL itself stays up for every other test); the CLI runs
 * asynchronously, as the forwarder lives in this process.
 * Touches: one gateway process, loopback ports, a temporary data dir, one mg_t_* schema.
 */
import { test } from 'node:test';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { pgSchema, pgSkip } from '../helpers/postgres.ts';
import { cliAsync, freePort, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { rcptReply } from '../helpers/direct-send.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { PgConfigStore } from '../../src/stores/postgres/config-store.ts';

const skip = await pgSkip();

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('store outage: the node keeps its configuration and takes mail, says so once, and catches up when the store is back', { skip, timeout: 180_000 }, async (t) => {
  const s = await pgSchema(t);
  const pg = new URL(s.url);
  const proxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
  t.after(() => proxy.close());
  const viaProxy = new URL(s.url);
  viaProxy.port = String(proxy.port);
  viaProxy.password = 's3cret-pw'; // trust auth ignores it; it must never be shown
  const dir = tempDir('mailgate-outage-');
  let gw: Gateway | undefined;
  t.after(async () => {
    await gw?.stop();
    removeDir(dir);
  });
  const init = await cliAsync(dir, ['init', '--store', viaProxy.toString(), '--schema', s.schema]);
  assert.equal(init.code, 0, init.stderr);
  assert.doesNotMatch(init.stdout + init.stderr, /s3cret-pw/);
  const [mx, submission, admin] = [await freePort(), await freePort(), await freePort()];
  gw = await startGateway(dir, [mx, admin], { args: ['--node', 'lonely', '--listen', `mx=127.0.0.1:${mx}`, '--listen', `submission=127.0.0.1:${submission}`, '--listen', `admin=127.0.0.1:${admin}`] });
  const metric = async (): Promise<string> => fetch(`http://127.0.0.1:${admin}/metrics`).then((r) => r.text());
  assert.match(await metric(), /^mailgate_config_store_up 1$/m);
  const token = await cliAsync(dir, ['token', 'add', 'reader', '--scope', 'read']);
  assert.equal(token.code, 0, token.stderr);
  const nodesApi = (): Promise<Response> => fetch(`http://127.0.0.1:${admin}/api/v1/nodes`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });

  await proxy.cut();
  await until('store reported down', 30_000, async () => (/^mailgate_config_store_up 0$/m.test(await metric()) ? true : undefined));
  assert.match(await rcptReply(mx), /^250/, 'mail is still taken on the configuration in force');
  const unavailable = await nodesApi();
  assert.equal(unavailable.status, 503, 'the API says the store is away: try later');
  const problem = (await unavailable.json()) as { detail: string };
  assert.match(problem.detail, /^the configuration store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test schema \w+ does not answer/);

  // Saved by another node (straight to PostgreSQL) while this one cannot see the store.
  const direct = new PgConfigStore({ pool: s.pool, url: s.url, schema: s.schema });
  const v = await direct.update('admin', 'during the outage', (d) => void (d.organization.rejectDirectSend = true));
  assert.equal(v, 2);
  await new Promise((r) => setTimeout(r, 1500));
  assert.match(await rcptReply(mx), /^250/, 'the node cannot know yet');

  await proxy.restore();
  const refused = await until('version 2 in force after the outage', 30_000, async () => {
    const r = await rcptReply(mx);
    return r.startsWith('550') ? r : undefined;
  });
  assert.match(refused, /^550 5\.7\.68 /);
  await until('store reported up', 30_000, async () => (/^mailgate_config_store_up 1$/m.test(await metric()) ? true : undefined));
  assert.match(await metric(), /^mailgate_config_version 2$/m);
  // Restarted while the store is away: it starts on the version it last ran, not dark.
  const before = gw.log();
  await proxy.cut();
  await gw.stop();
  gw = await startGateway(dir, [mx, admin], { args: ['--node', 'lonely', '--listen', `mx=127.0.0.1:${mx}`, '--listen', `submission=127.0.0.1:${submission}`, '--listen', `admin=127.0.0.1:${admin}`] });
  assert.match(gw.log(), /running on the cached configuration version 2/);
  assert.match(await rcptReply(mx), /^550 5\.7\.68 /, 'the cached version 2 is in force');
  assert.match(await metric(), /^mailgate_config_store_up 0$/m);
  await proxy.restore();
  await until('store reported up after the restart', 30_000, async () => (/^mailgate_config_store_up 1$/m.test(await metric()) ? true : undefined));
  const log = before;
  assert.equal(log.match(/configuration store unreachable/g)?.length, 1, 'said once, not at every poll');
  assert.match(log, /configuration store reachable again/);
  assert.doesNotMatch(log, /s3cret-pw/, 'no password in the log');
  assert.match(log, /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/, 'the store named, password masked');
  assert.equal(statSync(join(dir, 'store.yaml')).mode & 0o777, 0o600, 'store.yaml holds the password: owner only');
});
