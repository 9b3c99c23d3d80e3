import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { setGreetingDelay } from './greeting.ts';

async function withServer(delayMs: number | undefined, fn: (port: number) => Promise<void>): Promise<void> {
  const server = new SMTPServer({ disableReverseLookup: true, logger: false, authOptional: true, maxClients: 2 });
  if (delayMs !== undefined) setGreetingDelay(server, delayMs);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.server.address();
  try {
    await fn(typeof a === 'object' && a ? a.port : 0);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Connect, optionally talk at once, and return the first line and how long it took. */
function firstLine(port: number, talkFirst = false): Promise<{ line: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      if (talkFirst) s.write('EHLO early.test\r\n');
    });
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\r\n');
      if (i >= 0) {
        s.destroy();
        resolve({ line: buf.slice(0, i), ms: performance.now() - t0 });
      }
    });
    s.on('error', reject);
  });
}

test('the stock library pauses ~100 ms before the banner; greetingDelayMs 0 answers at once', async () => {
  await withServer(undefined, async (port) => {
    const r = await firstLine(port);
    assert.ok(r.ms >= 90, `stock delay ${r.ms} ms`);
  });
  await withServer(0, async (port) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push((await firstLine(port)).ms);
    assert.match((await firstLine(port)).line, /^220 /);
    assert.ok(Math.min(...times) < 50, `no delay: ${times.join(', ')} ms`);
  });
});

test('with a pause, an early talker gets 421 and a patient client the banner', async () => {
  await withServer(300, async (port) => {
    const early = await firstLine(port, true);
    assert.match(early.line, /^421 .*talk too soon/i);
    const patient = await firstLine(port);
    assert.match(patient.line, /^220 /);
    assert.ok(patient.ms >= 280, `waited ${patient.ms} ms`);
  });
});

test('maxClients is still enforced', async () => {
  await withServer(0, async (port) => {
    const held = await Promise.all([0, 1].map(() => new Promise<net.Socket>((r) => { const s = net.connect({ port, host: '127.0.0.1' }, () => r(s)); })));
    await new Promise((r) => setTimeout(r, 100));
    const third = await firstLine(port);
    assert.match(third.line, /^421 .*Too many connected clients/);
    for (const s of held) s.destroy();
  });
});
