/**
 * @module smtp/refusal-log.test
 * Refusal lines are limited per client IP and window; the rest are summed up in one
 * "N more suppressed" line when the window ends; other IPs are not affected.
 * Touches: a pino logger writing into memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { RefusalLog } from './refusal-log.ts';

test('at most N lines per IP per window, then one "N more suppressed" line per IP', () => {
  const lines: Array<{ msg: string; ip?: string; code?: string; id?: string; suppressed?: number }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const log = new RefusalLog(pino({ level: 'info' }, sink), 3_600_000, 3);
  for (let i = 0; i < 7; i++) log.log({ ip: '192.0.2.7', listener: 'mx', reply: `550 5.7.68 no [ID${i}@h]`, id: `ID${i}`, mailFrom: 'a@b.example' });
  log.log({ ip: '198.51.100.1', listener: 'mx', reply: '554 5.7.1 blocked [C1@h]', id: 'C1' });
  log.endWindow();
  log.log({ ip: '192.0.2.7', listener: 'mx', reply: '550 5.7.64 relay [ID9@h]', id: 'ID9' });
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      const from7 = lines.filter((l) => l.ip === '192.0.2.7');
      assert.equal(from7.filter((l) => l.msg.startsWith('refused')).length, 4, 'three in the first window, one in the next');
      assert.deepEqual(from7.map((l) => l.code ?? l.suppressed), ['550 5.7.68', '550 5.7.68', '550 5.7.68', 4, '550 5.7.64']);
      assert.match(from7[2]?.msg ?? '', /at most 3 lines per IP per minute/);
      assert.equal(from7[3]?.msg, '4 more refusals from 192.0.2.7 suppressed in the last minute');
      assert.equal(lines.find((l) => l.ip === '198.51.100.1')?.code, '554 5.7.1');
      resolve();
    }),
  );
});
