/**
 * @module test/fleet/three-nodes.test
 * Three `mailgate serve` nodes on loopback ports sharing one PostgreSQL schema (each its own data
 * directory, `--node`, `--listen`): `org set --reject-direct-send true` run against node A is
 * enforced by every node within 1 s of the change (a Direct Send session to each gets 550 5.7.68;
 * the bound is from the version's save time to the start of each node's first refused session,
 * polled every 100 ms), `node list` shows the three on the new version, /metrics says the
 * store is up, and a message sent to each node is in one trace search (naming its node) and counted
 * as one source by one Direct Send readiness report. PostgreSQL absent: skipped with a message (fails under CI).
 * Touches: three gateway processes, loopback ports, temporary data dirs, one mg_t_* schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgSchema, pgSkip } from '../helpers/postgres.ts';
import { cli, cliAsync, removeDir, startFleetNode, tempDir, type Gateway } from '../helpers/gateway.ts';
import { SmtpTestClient } from '../helpers/smtp-client.ts';
import { sendDirect } from '../helpers/direct-send.ts';

const skip = await pgSkip();
const NAMES = ['node-a', 'node-b', 'node-c'] as const;

interface Node {
  name: string;
  dir: string;
  mx: number;
  admin: number;
  gw?: Gateway;
}

/** One Direct Send attempt (anonymous, sender in the accepted domain, no connector): the RCPT reply. */
async function directSend(port: number): Promise<{ code: number; text: string; startedAt: number }> {
  const startedAt = Date.now();
  const c = await SmtpTestClient.connect({ port });
  try {
    await c.cmd('EHLO printer.test');
    const mail = await c.cmd('MAIL FROM:<printer@example.com>');
    if (mail.code !== 250) return { code: mail.code, text: mail.text, startedAt };
    const rcpt = await c.cmd('RCPT TO:<user@example.com>');
    return { code: rcpt.code, text: rcpt.text, startedAt };
  } finally {
    await c.quit();
  }
}

test('three nodes on one PostgreSQL schema: a change on node A is enforced by all three within 1 s; node list shows them', { skip, timeout: 300_000 }, async (t) => {
  const { url, schema } = await pgSchema(t);
  const nodes: Node[] = [];
  for (const name of NAMES) nodes.push({ name, dir: tempDir(`mailgate-fleet-${name}-`), mx: 0, admin: 0 });
  t.after(async () => {
    // A node that ended before the test did: its output says why.
    for (const n of nodes) if (n.gw && n.gw.proc.exitCode !== null) t.diagnostic(`${n.name} exited (${n.gw.proc.exitCode}):\n${n.gw.log().slice(-4000)}`);
    await Promise.all(nodes.map((n) => n.gw?.stop()));
    for (const n of nodes) removeDir(n.dir);
  });

  for (const [i, n] of nodes.entries()) {
    const r = cli(n.dir, ['init', '--store', url, '--schema', schema]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`configuration in postgres://.* schema ${schema}`));
    assert.match(r.stdout, i === 0 ? /\(config version 1 from mailgate\.example\.yaml\)/ : /\(config version 1, the fleet's\)/, 'the first node seeds the schema, the others join it');
  }
  const again = cli(nodes[0]!.dir, ['init']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already holds a mailgate store \(config version 1\)/, 'every node shares the one version 1');

  await Promise.all(
    nodes.map(async (n) => {
      const started = await startFleetNode(n.dir, n.name);
      Object.assign(n, { gw: started.gw, mx: started.mx, admin: started.admin });
    }),
  );
  for (const n of nodes) {
    const r = await directSend(n.mx);
    assert.equal(r.code, 250, `${n.name} before the change: ${r.text}`);
    // One whole message through each node, for the fleet's trace and readiness report below.
    assert.match(await sendDirect(n.mx, 'scanner@example.com', `scan via ${n.name}`), /^250 /, `${n.name} takes the scan`);
  }

  const change = cliAsync(nodes[0]!.dir, ['org', 'set', '--reject-direct-send', 'true']);
  const firstRefused = new Map<string, number>();
  const deadline = Date.now() + 60_000;
  let done: Awaited<typeof change> | undefined;
  void change.then((r) => (done = r));
  while (firstRefused.size < nodes.length && Date.now() < deadline) {
    await Promise.all(
      nodes
        .filter((n) => !firstRefused.has(n.name))
        .map(async (n) => {
          const r = await directSend(n.mx);
          if (r.code === 550) {
            assert.match(r.text, /^550 5\.7\.68 TenantInboundAttribution/, `${n.name}: ${r.text}`);
            firstRefused.set(n.name, r.startedAt);
          }
        }),
    );
    await new Promise((r) => setTimeout(r, 100));
  }
  const set = done ?? (await change);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(firstRefused.size, nodes.length, `refused by ${[...firstRefused.keys()].join(', ') || 'no node'} only`);

  const history = cli(nodes[1]!.dir, ['config', 'history', '--format', 'json']);
  assert.equal(history.code, 0, history.stderr);
  const v2 = (JSON.parse(history.stdout) as Array<{ version: number; createdAt: string; comment: string }>)[0];
  assert.equal(v2?.version, 2, 'node B sees the version node A saved');
  t.diagnostic(`first refused session after the save, ms: ${nodes.map((n) => `${n.name} ${(firstRefused.get(n.name) ?? NaN) - Date.parse(v2?.createdAt ?? '')}`).join(', ')}`);
  for (const n of nodes) {
    const lag = (firstRefused.get(n.name) ?? Infinity) - Date.parse(v2?.createdAt ?? '');
    assert.ok(lag <= 1000, `${n.name}: first refused session started ${lag} ms after the change was saved (bound 1000 ms)`);
  }

  // Heartbeats: every node on version 2, seen through node C's store.
  let listed: Array<{ name: string; state: string; configVersion: number; configLag: number }> = [];
  const until = Date.now() + 30_000;
  do {
    const r = cli(nodes[2]!.dir, ['node', 'list', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    listed = JSON.parse(r.stdout) as typeof listed;
    if (listed.length === 3 && listed.every((x) => x.configVersion === 2)) break;
    await new Promise((r) => setTimeout(r, 500));
  } while (Date.now() < until);
  assert.deepEqual(
    listed.map((x) => [x.name, x.state, x.configVersion, x.configLag]),
    NAMES.map((name) => [name, 'up', 2, 0]),
  );
  const table = cli(nodes[2]!.dir, ['node', 'list']);
  for (const name of NAMES) assert.match(table.stdout, new RegExp(name));

  const metrics = await fetch(`http://127.0.0.1:${nodes[1]!.admin}/metrics`).then((r) => r.text());
  assert.match(metrics, /^mailgate_config_store_up 1$/m);
  assert.match(metrics, /^mailgate_config_version 2$/m);

  // Traffic sent to all three is in one trace search (each row naming its node; shipping is
  // asynchronous, so polled, bounded) and one readiness report counts the source across them.
  let scans: Array<{ node: string; status: string }> = [];
  const shipped = Date.now() + 60_000;
  do {
    const r = cli(nodes[2]!.dir, ['trace', 'search', '--since', '1h', '--sender', 'scanner@', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    scans = JSON.parse(r.stdout) as typeof scans;
    if (scans.length >= 3) break;
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() < shipped);
  assert.deepEqual(scans.map((x) => x.node).sort(), [...NAMES], "node C's search finds the scan each node took");
  const rep = cli(nodes[1]!.dir, ['report', 'direct-send', '--since', '1d', '--spf', 'v=spf1 -all', '--format', 'json']);
  assert.equal(rep.code, 0, rep.stderr);
  const scanner = (JSON.parse(rep.stdout) as { sources: Array<{ sender: string; messages: number }> }).sources.filter((x) => x.sender === 'scanner@example.com');
  assert.deepEqual(scanner.map((x) => x.messages), [3], 'one source, its three messages across the nodes');
});
