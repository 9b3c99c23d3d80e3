import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBootstrap, writeBootstrap } from './bootstrap.ts';

test('store.yaml: absent means SQLite; written 0600 and read back; a bad one is refused naming the file and field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-bootstrap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(readBootstrap(dir), { kind: 'sqlite' });
  writeBootstrap(dir, { kind: 'postgres', url: 'postgres://u:pw@db:5432/mail', schema: 'fleet' });
  assert.equal(statSync(join(dir, 'store.yaml')).mode & 0o777, 0o600);
  assert.deepEqual(readBootstrap(dir), { kind: 'postgres', url: 'postgres://u:pw@db:5432/mail', schema: 'fleet' });
  writeFileSync(join(dir, 'store.yaml'), 'kind: postgres\nurl: postgres://db/mail\n');
  assert.deepEqual(readBootstrap(dir), { kind: 'postgres', url: 'postgres://db/mail', schema: 'mailgate' }, 'the default schema');
  for (const [text, why] of [
    ['kind: mysql\n', /store\.yaml: kind: /],
    ['kind: postgres\nurl: http://db\n', /store\.yaml: url: a postgres:\/\/ URL/],
    ['kind: postgres\nurl: postgres://db/x\nschema: "x; DROP"\n', /invalid PostgreSQL schema name/],
    ['kind: postgres\nurl: postgres://db/x\nextra: 1\n', /store\.yaml: .*extra/],
  ] as const) {
    writeFileSync(join(dir, 'store.yaml'), text);
    assert.throws(() => readBootstrap(dir), why, text);
  }
  assert.throws(() => writeBootstrap(dir, { kind: 'postgres', url: 'postgres://db/x', schema: 'Bad' }), /invalid PostgreSQL schema name/);
});
