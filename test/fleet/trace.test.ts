/**
 * @module test/fleet/trace.test
 * Two `mailgate serve` nodes on loopback ports sharing one PostgreSQL schema (each its own data
 * directory, `--node`, `--listen`): Direct Send mail accepted by each node (250, committed in its
 * own SQLite with its queue row) is shipped through its outbox to the shared trace, so one
 * `mailgate trace search` on node A lists every node's messages, `trace show` finds node B's, and
 * the Direct Send readiness report on node A counts one sender seen by both nodes as one source
 * with every message, and a hunt on node B counts each node's rows (the configuration stays out of
 * its reach). PostgreSQL absent: skipped with a message (fails under CI).
 * Touches: two gateway processes, loopback ports, temporary data dirs, one mg_t_* schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgSchema, pgSkip } from '../helpers/postgres.ts';
import { cli, removeDir, startFleetNode, tempDir, type Gateway } from '../helpers/gateway.ts';
import { sendDirect } from '../helpers/direct-send.ts';

const skip = await pgSkip();

interface Node {
  name: string;
  dir: string;
  mx: number;
  gw?: Gateway;
}

test('two nodes on one PostgreSQL: one trace search and one Direct Send report over both', { skip, timeout: 300_000 }, async (t) => {
  const { url, schema } = await pgSchema(t);
  const nodes: Node[] = [];
  for (const name of ['node-a', 'node-b']) nodes.push({ name, dir: tempDir(`mailgate-ftrace-${name}-`), mx: 0 });
  t.after(async () => {
    try {
      await Promise.allSettled(nodes.map((n) => n.gw?.stop()));
    } finally {
      for (const n of nodes) removeDir(n.dir);
    }
  });
  for (const n of nodes) {
    const r = cli(n.dir, ['init', '--store', url, '--schema', schema]);
    assert.equal(r.code, 0, r.stderr);
  }
  await Promise.all(
    nodes.map(async (n) => {
      const started = await startFleetNode(n.dir, n.name);
      Object.assign(n, { gw: started.gw, mx: started.mx });
    }),
  );
  const [a, b] = nodes as [Node, Node];
  // printer@ sends through both nodes (one source, 3 messages); scanner@ only through node B.
  for (const [n, from, subject] of [[a, 'printer@example.com', 'a1'], [a, 'printer@example.com', 'a2'], [b, 'printer@example.com', 'b1'], [b, 'scanner@example.com', 'b2']] as const) {
    assert.match(await sendDirect(n.mx, from, subject), /^250 /, `${n.name} accepts ${subject}`);
  }

  // Shipping is asynchronous (the outbox): poll node A's view of the fleet, bounded.
  type Row = { id: string; from: string; attribution: string; node: string };
  let rows: Row[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = cli(a.dir, ['trace', 'search', '--since', '1h', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    rows = JSON.parse(r.stdout) as Row[];
    if (rows.length >= 4) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(rows.length, 4, `node A's search sees every node's messages: ${JSON.stringify(rows)}`);
  assert.ok(rows.every((r) => r.attribution === 'direct-send'));
  assert.deepEqual(rows.map((r) => r.node).sort(), ['node-a', 'node-a', 'node-b', 'node-b'], 'each row names the node that received it');

  // A message node B accepted, shown from node A.
  const bIds = JSON.parse(cli(b.dir, ['trace', 'search', '--since', '1h', '--sender', 'scanner@', '--format', 'json']).stdout) as Row[];
  assert.equal(bIds.length, 1);
  const shown = cli(a.dir, ['trace', 'show', bIds[0]!.id, '--format', 'json']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal((JSON.parse(shown.stdout) as { message: { mailFrom: string } }).message.mailFrom, 'scanner@example.com');

  const rep = cli(a.dir, ['report', 'direct-send', '--since', '1d', '--spf', 'v=spf1 -all', '--format', 'json']);
  assert.equal(rep.code, 0, rep.stderr);
  const report = JSON.parse(rep.stdout) as { sources: { clientIp: string; sender: string; messages: number }[] };
  const sources = report.sources.map((s) => `${s.sender} ${s.messages}`).sort();
  assert.deepEqual(sources, ['printer@example.com 3', 'scanner@example.com 1'], 'one source per sender across both nodes, every message counted');

  // A hunt over the fleet trace, as the README shows it (read-only role, trace tables only).
  const hunt = cli(b.dir, ['report', 'hunt', '--query', 'SELECT node, count(*) AS n FROM trace_message GROUP BY node ORDER BY node', '--format', 'json']);
  assert.equal(hunt.code, 0, hunt.stderr);
  assert.deepEqual(JSON.parse(hunt.stdout), [{ node: 'node-a', n: 2 }, { node: 'node-b', n: 2 }]);
  const refused = cli(b.dir, ['report', 'hunt', '--query', 'SELECT * FROM config_version']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /permission denied/);
});
