/**
 * @module core/log-pretty.test
 * The terminal format: time, level, name, message, key=value; values with spaces or control
 * characters quoted and escaped, so a client-chosen string cannot start a forged line.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prettyLine } from './log-pretty.ts';

test('one line per entry, control characters escaped', () => {
  const line = JSON.stringify({ level: 30, time: '2026-12-07T15:04:05.123Z', pid: 1, name: 'mailgate', msg: 'refused', ip: '192.0.2.7', mailFrom: 'x@y\n15:00:00.000 INFO  mailgate: forged', code: '550 5.7.68' });
  const out = prettyLine(line);
  assert.equal(out, '15:04:05.123 INFO  mailgate: refused ip=192.0.2.7 mailFrom="x@y\\n15:00:00.000 INFO  mailgate: forged" code="550 5.7.68"');
  assert.equal(out.split('\n').length, 1);
  const err = prettyLine(JSON.stringify({ level: 50, time: '2026-12-07T15:04:05.123Z', name: 'm', msg: 'boom', err: { type: 'Error', message: 'bad', stack: 'Error: bad\n    at f (x.ts:1:1)' } }));
  assert.equal(err, '15:04:05.123 ERROR m: boom err="Error: bad"\n    at f (x.ts:1:1)');
  assert.equal(prettyLine('not json\u001b[31m'), 'not json\\u001b[31m');
});
