/**
 * @module test/daemon/ipc.test
 * The worker ↔ queue-owner link over a real IPC channel (a forked child): registrations are acked
 * or refused one by one, the acks hand the worker one reusable spool file name per committed
 * registration, trace records arrive, and when the owner goes away every registration
 * still waiting is refused (the worker answers 451 and keeps nothing) instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serveWorkerLink, type WorkerChannel } from '../../src/daemon/ipc.ts';
import type { Registration } from '../../src/queue/index.ts';
import type { TraceEvent } from '../../src/trace/index.ts';

const CHILD = fileURLToPath(new URL('../helpers/ipc-worker.ts', import.meta.url));

interface Line {
  free?: string[];
  id?: string;
  ok?: boolean;
  error?: string;
  done?: boolean;
}

function start(ids: string[], ackMs = 60_000): { child: ChildProcess; lines: Promise<Line[]> } {
  const env = { ...process.env, MAILGATE_TEST_IDS: ids.join(','), MAILGATE_TEST_ACK_MS: String(ackMs) };
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const lines = new Promise<Line[]>((resolve) => child.once('exit', () => resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line))));
  return { child, lines };
}

const channel = (c: ChildProcess): WorkerChannel => ({
  on: (event: 'message' | 'error', fn: (arg: never) => void) => c.on(event, fn as (arg: unknown) => void),
  send: (m: unknown, cb: (err: Error | null) => void) => c.send(m as object, cb),
  isConnected: () => c.connected,
});

test('registrations are acked or refused one by one; trace records reach the owner', { timeout: 30_000 }, async () => {
  const { child, lines } = start(['ok1', 'bad', 'ok2']);
  const seen: string[] = [];
  const events: TraceEvent[] = [];
  let commits = 0;
  const asked: number[] = [];
  let handed = 0;
  serveWorkerLink(
    channel(child),
    async (r: Registration) => {
      seen.push(r.stored.id);
      if (r.stored.id === 'bad') throw new Error('UNIQUE constraint failed: queue_message.id');
    },
    { message: () => undefined, event: (e) => events.push(e) },
    () => commits++,
    (n) => {
      asked.push(n);
      return Array.from({ length: n }, () => `F${++handed}`);
    },
  );
  const got = await lines;
  assert.deepEqual(seen.sort(), ['bad', 'ok1', 'ok2']);
  const byId = Object.fromEntries(got.filter((l) => l.id).map((l) => [l.id, l]));
  assert.equal(byId.ok1?.ok, true);
  assert.equal(byId.ok2?.ok, true);
  assert.equal(byId.bad?.ok, false);
  assert.match(byId.bad?.error ?? '', /UNIQUE constraint failed/);
  assert.ok(got.some((l) => l.done));
  assert.deepEqual(events.map((e) => e.detail), ['from the worker']);
  assert.ok(commits >= 1, 'the scheduler is woken after a committed ack');
  assert.equal(asked.reduce((a, b) => a + b, 0), 2, 'one reusable file asked for per committed registration');
  assert.deepEqual(got.flatMap((l) => l.free ?? []).sort(), ['F1', 'F2'], 'and handed to the worker with the acks');
});

test('when the owner goes away, registrations waiting for an ack are refused, not left hanging', { timeout: 30_000 }, async () => {
  const { child, lines } = start(['a', 'b']);
  serveWorkerLink(
    channel(child),
    () => {
      // The owner takes the registrations and never answers: then it goes away.
      setTimeout(() => {
        if (child.connected) child.disconnect();
      }, 200);
      return new Promise<void>(() => undefined);
    },
    { message: () => undefined, event: () => undefined },
    () => undefined,
  );
  const got = await lines;
  const settled = got.filter((l) => l.id);
  assert.equal(settled.length, 2);
  for (const l of settled) {
    assert.equal(l.ok, false);
    assert.match(l.error ?? '', /queue owner gone/);
  }
});

test('an owner that stays connected but never answers: registrations are refused after the ack timeout', { timeout: 30_000 }, async () => {
  const { child, lines } = start(['slow1', 'slow2'], 500);
  serveWorkerLink(channel(child), () => new Promise<void>(() => undefined), { message: () => undefined, event: () => undefined }, () => undefined);
  const t0 = Date.now();
  const got = await lines;
  const settled = got.filter((l) => l.id);
  assert.equal(settled.length, 2);
  for (const l of settled) assert.match(l.error ?? '', /did not answer within 500 ms/);
  assert.ok(Date.now() - t0 < 10_000);
});
