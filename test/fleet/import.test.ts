/**
 * @module test/fleet/import.test
 * An Exchange Online export imported on a fleet node with no gateway running there reaches the
 * shared trace at once (the CLI drains the node's outbox as that node), so another node's
 * readiness report over the import counts it (and takes the import's own time range as its window,
 * found in the shared trace), and a second import of the same file adds nothing. Another node's
 * `report hunt --list-saved` prints the saved hunts in the fleet store's SQL.
 * Touches: temporary data dirs; a PostgreSQL schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defaultNodeName } from '../../src/config/index.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { outboxNode } from '../../src/stores/sqlite/trace-outbox.ts';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';
import { pgSchema, pgSkip } from '../helpers/postgres.ts';
import { messageTraceText, write } from '../audit/fixtures.ts';
import { PG_SAVED_HUNTS } from '../../src/stores/postgres/trace-saved-hunts.ts';

test('fleet: audit import on a node without a gateway ships to the shared trace; another node reports it', { skip: await pgSkip(), timeout: 120_000 }, async (t) => {
  const { url, schema, pool } = await pgSchema(t);
  const [a, b] = [tempDir('mailgate-fimport-a-'), tempDir('mailgate-fimport-b-')];
  t.after(() => {
    removeDir(a);
    removeDir(b);
  });
  for (const dir of [a, b]) assert.equal(cli(dir, ['init', '--store', url, '--schema', schema]).code, 0);
  const file = write(a, 'trace.csv', messageTraceText(Date.now()), 'utf16le-bom');
  const args = ['audit', 'import', file, '--name', 'tenant1', '--tenant-domains', 'contoso.com', '--date-format', 'mdy'];
  const imp = cli(a, args);
  assert.equal(imp.code, 0, imp.stderr);
  const shipped = /shipped (\d+) trace rows to the fleet's shared trace/.exec(imp.stdout);
  assert.ok(shipped && Number(shipped[1]) > 0, imp.stdout);

  const localReport = cli(a, ['report', 'direct-send', '--since', '7d', '--source', 'import:tenant1', '--format', 'json']);
  const remote = cli(b, ['report', 'direct-send', '--since', '7d', '--source', 'import:tenant1', '--format', 'json']);
  assert.equal(remote.code, 0, remote.stderr);
  const sources = (JSON.parse(remote.stdout) as { sources: { sender: string; messages: number }[] }).sources;
  assert.ok(sources.length > 0, 'node B reports the sources node A imported');
  assert.deepEqual(JSON.parse(remote.stdout).sources, JSON.parse(localReport.stdout).sources, 'both nodes read one fleet trace');

  // Without --since a report over an import spans the import's own rows: node B finds them in the shared trace.
  type Windowed = { window: { since: string; until: string } };
  const spanA = cli(a, ['report', 'inbound', '--source', 'import:tenant1', '--format', 'json']);
  const spanB = cli(b, ['report', 'inbound', '--source', 'import:tenant1', '--format', 'json']);
  assert.equal(spanB.code, 0, spanB.stderr);
  const [wa, wb] = [(JSON.parse(spanA.stdout) as Windowed).window, (JSON.parse(spanB.stdout) as Windowed).window];
  assert.ok(Date.parse(wa.until) - Date.parse(wa.since) < 7 * 86_400_000, `the import's own range, not the 7d default: ${JSON.stringify(wa)}`);
  assert.deepEqual(wb, wa, "node B's window is the import's range too");

  const listed = cli(b, ['report', 'hunt', '--list-saved', '--format', 'json']);
  assert.equal(listed.code, 0, listed.stderr);
  const hunts = JSON.parse(listed.stdout) as { name: string; sql: string }[];
  assert.ok(hunts.length > 0);
  for (const h of hunts) assert.equal(h.sql, PG_SAVED_HUNTS[h.name], `${h.name} in PostgreSQL's SQL`);

  const count = async (): Promise<number> => Number((await pool.query("SELECT count(*) AS n FROM trace_message WHERE source = 'import:tenant1'")).rows[0].n);
  const before = await count();
  assert.ok(before > 0);
  const shippedAs = (await pool.query("SELECT DISTINCT node FROM trace_message WHERE source = 'import:tenant1'")).rows.map((r: { node: string }) => r.node);
  assert.deepEqual(shippedAs, [defaultNodeName(hostname())], 'no serve named the node: the default name');
  const local = openDatabase(join(a, 'mailgate.db'));
  try {
    assert.equal(outboxNode(local), shippedAs[0], 'and it is recorded, so whoever ships next ships as the same node');
  } finally {
    local.close();
  }
  const again = cli(a, args);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await count(), before, 'the same export imported again adds no row to the fleet trace');

  // Node B lists the import node A made, and removing it there removes it from the fleet's trace.
  const imports = JSON.parse(cli(b, ['audit', 'list', '--format', 'json']).stdout) as { name: string; rows: number; tenantHow: string }[];
  assert.deepEqual(imports.map((d) => [d.name, d.rows, d.tenantHow]), [['tenant1', before, 'imported on another node']]);
  const removed = cli(b, ['audit', 'remove', 'tenant1']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await count(), 0, "the import's rows left the shared trace");
  const after = cli(a, ['report', 'direct-send', '--since', '7d', '--source', 'import:tenant1', '--format', 'json']);
  assert.deepEqual((JSON.parse(after.stdout) as { sources: unknown[] }).sources, [], "node A's report no longer counts them");
  assert.equal(cli(b, ['audit', 'remove', 'tenant1']).code, 1, 'gone: a second remove finds nothing');
  const onA = JSON.parse(cli(a, ['audit', 'list', '--format', 'json']).stdout) as { name: string; rows: number }[];
  assert.deepEqual(onA.map((d) => [d.name, d.rows]), [['tenant1', 0]], 'node A keeps its record (its own remove clears it) with no row left in the fleet');
});
