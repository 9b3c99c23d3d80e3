import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgSchema, pgSkip } from '../../../test/helpers/postgres.ts';
import { migrate, schemaVersion } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { Migration } from './migrations/types.ts';
import { openPool, sessionOptions } from './pool.ts';

const skip = await pgSkip();

test('session options: schema, statement timeout, read-only; bad identifiers refused', () => {
  assert.equal(sessionOptions({ schema: 'fleet_a', statementTimeoutMs: 1500, readOnly: true }), '-c search_path=fleet_a -c statement_timeout=1500 -c default_transaction_read_only=on');
  assert.throws(() => sessionOptions({ schema: 'a; DROP TABLE x' }), /invalid PostgreSQL schema name/);
  assert.throws(() => sessionOptions({ schema: 'ok', role: 'Bad Role' }), /invalid PostgreSQL role name/);
});

test('migrate: applies every migration once, records it, and is a no-op the second time', { skip }, async (t) => {
  const { pool, schema } = await pgSchema(t);
  const first = await migrate(pool, schema);
  assert.deepEqual(first.applied, MIGRATIONS.map((m) => m.version));
  assert.equal(await schemaVersion(pool, schema), MIGRATIONS.length);
  const again = await migrate(pool, schema);
  assert.deepEqual(again, { applied: [], version: MIGRATIONS.length });
  const tables = await pool.query<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
  assert.ok(tables.rows.some((r) => r.t === 'config_version'));
});

test('migrate: nodes starting together apply each migration exactly once (advisory lock)', { skip }, async (t) => {
  const { pool, schema, url } = await pgSchema(t);
  let runs = 0;
  const counted: Migration[] = [
    ...MIGRATIONS,
    {
      version: MIGRATIONS.length + 1,
      name: 'counted',
      async up(c) {
        runs++;
        await c.query('CREATE TABLE counted (x INT)');
        await c.query('SELECT pg_sleep(0.05)');
      },
    },
  ];
  const pools = [pool, openPool({ url, schema }), openPool({ url, schema })];
  t.after(() => Promise.all(pools.slice(1).map((p) => p.end())));
  const results = await Promise.all(pools.map((p) => migrate(p, schema, counted)));
  assert.equal(runs, 1);
  assert.deepEqual(results.flatMap((r) => r.applied).sort(), counted.map((m) => m.version).sort());
  assert.ok(results.every((r) => r.version === counted.length));
});

test('migrate: a failing migration leaves the earlier ones and nothing of itself; a newer schema is refused', { skip }, async (t) => {
  const { pool, schema } = await pgSchema(t);
  const bad: Migration[] = [
    ...MIGRATIONS,
    {
      version: MIGRATIONS.length + 1,
      name: 'bad',
      async up(c) {
        await c.query('CREATE TABLE half (x INT)');
        await c.query('SELECT * FROM no_such_table');
      },
    },
  ];
  await assert.rejects(migrate(pool, schema, bad), /no_such_table/);
  assert.equal(await schemaVersion(pool, schema), MIGRATIONS.length);
  const half = await pool.query('SELECT to_regclass($1) AS t', [`${schema}.half`]);
  assert.equal(half.rows[0].t, null);
  await pool.query(`INSERT INTO schema_migrations (version, name) VALUES (99, 'future')`);
  await assert.rejects(migrate(pool, schema), /newer than this mailgate knows/);
});

test('openPool: read-only sessions refuse writes; statement timeout cancels', { skip }, async (t) => {
  const { schema, url, pool } = await pgSchema(t);
  await migrate(pool, schema);
  const ro = openPool({ url, schema, readOnly: true, statementTimeoutMs: 200 });
  t.after(() => ro.end());
  await assert.rejects(ro.query("INSERT INTO config_version VALUES (1, 0, 'x', '', '')"), /read-only transaction/);
  await assert.rejects(ro.query('SELECT pg_sleep(5)'), /statement timeout/);
});
