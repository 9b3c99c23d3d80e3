/**
 * The primary's scrape over real forked processes and their IPC channels: answering workers'
 * counters are summed with the primary's own; a worker that never answers is left out after the
 * bounded wait and counted as missing, so the scrape neither hangs nor fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { GatewayMetrics } from '../../src/metrics/index.ts';
import { MetricsGatherer, type MetricsChannel } from '../../src/daemon/metrics-link.ts';

const CHILD = join(import.meta.dirname, '..', 'helpers', 'metrics-worker.ts');

async function start(connections: number, silent = false): Promise<ChildProcess> {
  const env = { ...process.env, MAILGATE_TEST_CONNECTIONS: String(connections), MAILGATE_TEST_SILENT: silent ? '1' : '0' };
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', () => reject(new Error('worker exited before ready')));
  });
  return child;
}

const channel = (c: ChildProcess): MetricsChannel => ({
  on: (event: 'message', fn: (m: unknown) => void) => c.on(event, fn),
  send: (m, cb) => c.send(m, cb),
  isConnected: () => c.connected,
});

test('a scrape sums the workers that answer and counts the one that does not', async () => {
  const children = [await start(2), await start(3), await start(100, true)];
  try {
    const own = new GatewayMetrics();
    own.connection('mx', 'accepted');
    const g = new MetricsGatherer(own.registry, 5000);
    for (const c of children) g.add(channel(c));
    const text = await g.scrape();
    assert.match(text, /^mailgate_connections_total\{listener="mx",outcome="accepted"\} 6$/m);
    assert.match(text, /^mailgate_scrape_workers\{state="answered"\} 2$/m);
    assert.match(text, /^mailgate_scrape_workers\{state="missing"\} 1$/m);
  } finally {
    for (const c of children) {
      const gone = new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())));
      c.disconnect();
      await gone;
    }
  }
});
