/**
 * @module test/audit/csv.test
 * The streaming CSV reader and the decoders under it: RFC 4180 quoting (commas, doubled quotes,
 * CR/LF inside quotes), any chunking gives the same records and lines, a cut-off file reports the
 * line of its open quote; encoding sniffing; the timestamp forms exports use.
 * Touches: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvReader, type CsvRecord } from '../../src/audit/csv.ts';
import { sniffEncoding } from '../../src/audit/decode.ts';
import { parseExoTime } from '../../src/audit/time.ts';

function read(text: string, chunk = text.length): { records: CsvRecord[]; end: ReturnType<CsvReader['finish']> } {
  const records: CsvRecord[] = [];
  const r = new CsvReader((x) => records.push(x));
  for (let i = 0; i < text.length; i += chunk) r.push(text.slice(i, i + chunk));
  return { records, end: r.finish() };
}

const SAMPLE = 'a,b,c\r\n"x, y","he said ""hi""",3\r\n"multi\r\nline\nfield",,last\n\r\nplain,"",end';

test('csv: quoting, doubled quotes, embedded CR/LF, empty fields, lines of each record', () => {
  const { records, end } = read(SAMPLE);
  assert.deepEqual(records.map((r) => [r.line, r.fields]), [
    [1, ['a', 'b', 'c']],
    [2, ['x, y', 'he said "hi"', '3']],
    [3, ['multi\r\nline\nfield', '', 'last']],
    [7, ['plain', '', 'end']],
  ]);
  assert.equal(end.openQuoteLine, undefined);
  assert.equal(end.endedWithoutNewline, true);
});

test('csv: every chunk size gives the same records', () => {
  const whole = read(SAMPLE).records;
  for (const n of [1, 2, 3, 5, 7, 13]) assert.deepEqual(read(SAMPLE, n).records, whole, `chunk ${n}`);
});

test('csv: a file cut inside a quoted field keeps the whole rows and names the line', () => {
  const { records, end } = read('h1,h2\r\n1,"ok"\r\n2,"cut off\r\nin the mid');
  assert.deepEqual(records.map((r) => r.fields), [['h1', 'h2'], ['1', 'ok']]);
  assert.equal(end.openQuoteLine, 3);
});

test('csv: text after a closing quote is kept and flagged', () => {
  const { records } = read('"a"b,c\n');
  assert.deepEqual(records[0]?.fields, ['ab', 'c']);
  assert.match(records[0]?.problem ?? '', /after the closing quote/);
});

test('sniff: BOMs, UTF-16 without BOM by zero bytes, UTF-8 otherwise, binary refused', () => {
  assert.equal(sniffEncoding(Buffer.from([0xff, 0xfe, 0x41, 0])).encoding, 'utf-16le');
  assert.equal(sniffEncoding(Buffer.from([0xfe, 0xff, 0, 0x41])).encoding, 'utf-16be');
  assert.deepEqual(sniffEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x41])), { encoding: 'utf-8', bom: 3, how: 'UTF-8 BOM' });
  assert.equal(sniffEncoding(Buffer.from('Received,Sender', 'utf16le')).encoding, 'utf-16le');
  assert.equal(sniffEncoding(Buffer.from('Received,Sender', 'utf16le').swap16()).encoding, 'utf-16be');
  assert.equal(sniffEncoding(Buffer.from('Received,Sender')).encoding, 'utf-8');
  assert.throws(() => sniffEncoding(Buffer.from([0x1f, 0x8b, 0, 0, 0, 0, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46])), /zero bytes/);
});

test('time: ISO with 7 fractional digits, PowerShell 5.1 US format, EAC dates', () => {
  const t = Date.UTC(2025, 2, 4, 13, 5, 6, 123);
  assert.equal(parseExoTime('2025-03-04T13:05:06.1234567Z'), t);
  assert.equal(parseExoTime('2025-03-04 13:05:06.1234567'), t);
  assert.equal(parseExoTime('2025-03-04T15:05:06.123+02:00'), t);
  assert.equal(parseExoTime('3/4/2025 1:05:06 PM'), t - 123);
  assert.equal(parseExoTime('3/4/2025 12:05:06 AM'), Date.UTC(2025, 2, 4, 0, 5, 6));
  assert.equal(parseExoTime('3/4/2025 13:05'), Date.UTC(2025, 2, 4, 13, 5));
  assert.equal(parseExoTime('25/3/2025 13:05:06'), Date.UTC(2025, 2, 25, 13, 5, 6));
  assert.equal(parseExoTime('2025-03-04'), Date.UTC(2025, 2, 4));
  assert.equal(parseExoTime('3/4/2025'), Date.UTC(2025, 2, 4));
  assert.equal(parseExoTime('04.03.2025'), Date.UTC(2025, 2, 4));
  assert.equal(parseExoTime('Mar 4, 2025'), Date.UTC(2025, 2, 4));
  assert.equal(parseExoTime('4 March 2025'), Date.UTC(2025, 2, 4));
  assert.equal(parseExoTime('2025-02-30'), undefined);
  assert.equal(parseExoTime('yesterday'), undefined);
});

test('progress: a bar with rows/s and ETA on a terminal, plain lines elsewhere', async () => {
  const { Progress } = await import('../../src/audit/progress.ts');
  let t = 0;
  const tty = { text: '', isTTY: true, write(s: string) { this.text += s; } };
  const p = new Progress(tty, 1000, { now: () => t });
  t = 2000;
  p.tick(500, 10_000);
  assert.equal(tty.text, '\r[###############---------------]  50% 10,000 rows  5,000 rows/s  ETA 0:02\x1b[K');
  const log = { text: '', isTTY: false, write(s: string) { this.text += s; } };
  const q = new Progress(log, 1000, { now: () => t, intervalMs: 5000 });
  t = 7000;
  q.tick(250, 1000);
  q.tick(300, 1200);
  assert.equal(log.text, 'import:  25% 1,000 rows  200 rows/s  ETA 0:15\n');
});
