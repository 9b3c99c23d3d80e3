#!/usr/bin/env node
/**
 * @module scripts/run-tests
 * Runs every `*.test.ts` under src/ and test/ with node's test runner through tsx.
 * Node 20 neither expands globs in `--test` nor discovers `.ts` files, so the list is built here.
 * Extra arguments are treated as path filters (substring match). `*.alone.test.ts` files run last,
 * one at a time.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
let files = walk('src', []).concat(walk('test', []));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
files.sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Files named `*.alone.test.ts` disturb what other tests share (they restart the machine's
// PostgreSQL): they run after the others, one at a time, with nothing beside them.
const alone = files.filter((f) => f.endsWith('.alone.test.ts'));
const shared = files.filter((f) => !f.endsWith('.alone.test.ts'));

// --test-force-exit: a test file whose failure leaked a handle (a server never closed) ends when its
// tests have, instead of holding the whole run until CI's time limit; the failure is still reported.
function run(list, concurrency) {
  if (list.length === 0) return 0;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-force-exit', ...list], { stdio: 'inherit' });
  return r.status ?? 1;
}
const first = run(shared, 2);
const second = run(alone, 1);
process.exit(first || second);
