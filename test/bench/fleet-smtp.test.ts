/**
 * @module test/bench/fleet-smtp.test
 * bench/fleet-smtp.ts is never run by the suite (it is a timed benchmark): here it type-checks
 * with the project's compiler options (and tsconfig.json keeps bench/ in `npm run check`), its
 * report arithmetic gives known figures, and bad arguments stop it with a usage line before it
 * starts anything. No timed assertion.
 * Touches: reads tsconfig.json and the bench sources; one short child process (usage error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../helpers/gateway.ts';
import { median, pct, summarise, table, type RoundResult } from '../../bench/fleet-report.ts';

const BENCH = join(ROOT, 'bench', 'fleet-smtp.ts');

test('bench/fleet-smtp.ts type-checks with the project options, and tsconfig.json keeps bench/ in the check', { timeout: 180_000 }, () => {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')) });
  assert.ok(parsed);
  assert.ok(parsed.fileNames.includes(BENCH), 'tsconfig.json includes bench/fleet-smtp.ts (npm run check type-checks it)');
  const program = ts.createProgram({ rootNames: [BENCH], options: parsed.options });
  const diags = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  assert.deepEqual(diags, []);
});

test('fleet report: percentiles, medians, the per-configuration summary and the ratio', () => {
  const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(pct(s, 50), 5);
  assert.equal(pct(s, 95), 10);
  assert.ok(Number.isNaN(pct([], 50)));
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const round = (config: RoundResult['config'], r: number, acceptSeconds: number, lagMs: number[]): RoundResult => ({
    config, round: r, messages: 1000, acceptSeconds, drainSeconds: acceptSeconds + 0.5, delivered: 1000, failedRuns: 0, lagMs, nodeCpuS: acceptSeconds, loadStart: 1, loadEnd: 1,
    ...(lagMs.length ? { traceRows: 1000, pgCpuS: 0.5 } : {}),
  });
  const rounds = [round('sqlite-1', 1, 2, []), round('postgres-2', 1, 1, [100, 300]), round('postgres-2', 2, 4, [200]), round('sqlite-1', 2, 4, [])];
  const single = summarise(rounds, 'sqlite-1');
  const fleet = summarise(rounds, 'postgres-2');
  assert.equal(single.acceptedPerSec, 375); // median of 500 and 250
  assert.deepEqual(single.acceptedRange, [250, 500]);
  assert.equal(single.lag, undefined);
  assert.deepEqual(fleet.lag, { p50: 200, p95: 300, max: 300, messages: 3 });
  assert.equal(fleet.traceRows, 2000);
  assert.equal(fleet.delivered, 2000);
  assert.equal(single.nodeCpuPer1k, 3); // medians of 2 and 4 s per 1,000 messages
  assert.equal(fleet.pgCpuPer1k, 0.5);
  const t = table([single, fleet]);
  assert.match(t, /\| two nodes, one PostgreSQL \| 625 \(250–1,000\) \| .* \| 2\.50 \/ 0\.50 \| 0 \|$/m);
  assert.match(t, /\| one node, SQLite \| .* \| 3\.00 \/ – \| 0 \|$/m);
  assert.match(t, /ratio two nodes, one PostgreSQL ÷ one node, SQLite: accepted 1\.67×/);
});

test('bench/fleet-smtp.ts: bad arguments stop it with a usage line (exit 2), before it starts anything', { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', BENCH, '-n', '1'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^usage: fleet-smtp\.ts/m);
});
