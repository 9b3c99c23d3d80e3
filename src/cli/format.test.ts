/**
 * @module cli/format.test
 * Table alignment, RFC 4180 CSV quoting, JSON output, flag parsers and exit codes.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { CliError, enumParser, exitCodeFor, parseBool, printRecord, printRows, reportError, splitList, UsageError } from './format.ts';
import { ConfigError } from '../config/index.ts';

function capture(): { write(s: string): void; text: string } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
    },
  };
}

const rows = [
  { name: 'mx', port: 25, ips: ['192.0.2.1', '10.0.0.0/8'] },
  { name: 'say "hi", then\nleave', port: 2525, ips: [] },
];

test('table: header and aligned columns', () => {
  const out = capture();
  printRows([{ name: 'a', port: 25 }, { name: 'longer', port: 2525 }], ['name', 'port'], 'table', out);
  assert.equal(out.text, 'NAME    PORT\na       25\nlonger  2525\n');
});

test('csv: RFC 4180 quoting and CRLF', () => {
  const out = capture();
  printRows(rows, ['name', 'port', 'ips'], 'csv', out);
  assert.equal(out.text, 'name,port,ips\r\nmx,25,"192.0.2.1,10.0.0.0/8"\r\n"say ""hi"", then\nleave",2525,\r\n');
});

test('json: an array of the selected columns, arrays kept', () => {
  const out = capture();
  printRows(rows, ['name', 'ips'], 'json', out);
  assert.deepEqual(JSON.parse(out.text), [
    { name: 'mx', ips: ['192.0.2.1', '10.0.0.0/8'] },
    { name: 'say "hi", then\nleave', ips: [] },
  ]);
  const empty = capture();
  printRows([], ['name'], 'json', empty);
  assert.deepEqual(JSON.parse(empty.text), []);
});

test('record: key/value lines', () => {
  const out = capture();
  printRecord({ name: 'x', rejectDirectSend: true }, 'table', out);
  assert.equal(out.text, 'name              x\nrejectDirectSend  true\n');
});

test('parsers and exit codes', () => {
  assert.equal(parseBool('$true'), true);
  assert.equal(parseBool('FALSE'), false);
  assert.throws(() => parseBool('maybe'), UsageError);
  assert.equal(enumParser('--type', ['Partner', 'OnPremises'] as const)('onpremises'), 'OnPremises');
  assert.throws(() => enumParser('--type', ['Partner'] as const)('x'), /--type must be one of Partner/);
  assert.deepEqual(splitList(['a,b', ' c ', '']), ['a', 'b', 'c']);
  assert.equal(exitCodeFor(new UsageError('x')), 2);
  assert.equal(exitCodeFor(new CliError('x')), 1);
  assert.equal(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'x')), 2);
  const err = capture();
  assert.equal(reportError(new ConfigError('routes[0].host', 'needed', 'f.yaml'), err), 1);
  assert.equal(err.text, 'f.yaml: routes[0].host: needed\n');
});

test('csv: cells a spreadsheet would run as a formula get a leading quote (OWASP CSV injection)', () => {
  const out = capture();
  const evil = [
    { subject: '=HYPERLINK("http://evil.test","x")', from: '+1+cmd|/c calc!A0', helo: '-2+3', to: '@SUM(A1)', note: '\t=1', cr: '\r=1', count: -5 },
    { subject: 'plain', from: 'a@b.test', helo: 'mx.test', to: 'x=1', note: ' =1', cr: 'ok', count: 3 },
  ];
  printRows(evil, ['subject', 'from', 'helo', 'to', 'note', 'cr', 'count'], 'csv', out);
  const [head, first, second] = out.text.split('\r\n');
  assert.equal(head, 'subject,from,helo,to,note,cr,count');
  assert.equal(first, `"'=HYPERLINK(""http://evil.test"",""x"")",'+1+cmd|/c calc!A0,'-2+3,'@SUM(A1),'\t=1,"'\r=1",-5`);
  assert.equal(second, 'plain,a@b.test,mx.test,x=1, =1,ok,3');
});

test('table: ESC/OSC/BEL, C1 and bidi overrides in untrusted text are neutralised', () => {
  const out = capture();
  const subject = 'pay \x1b[2J\x1b]8;;http://evil.test\x07click\x1b]8;;\x07 \u202eexe.pdf\u202c \x9b31m \u2066x\u2069';
  printRows([{ subject, helo: 'mx\x1b[31m.test', from: 'a\u202e@b.test' }], ['subject', 'helo', 'from'], 'table', out);
  assert.doesNotMatch(out.text, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
  assert.match(out.text, /pay \?\[2J\?\]8;;http:\/\/evil\.test\?click/);
  const rec = capture();
  printRecord({ helo: 'x\x1b]0;owned\x07' }, 'table', rec);
  assert.equal(rec.text.trim(), 'helo     x?]0;owned?');
});
