/**
 * @module core/log-pretty
 * `MAILGATE_LOG_FORMAT=pretty`: pino's JSON lines rewritten for a terminal, one line each —
 * `15:04:05.123 INFO  mailgate: refused ip=192.0.2.7 code="550 5.7.68" id=01M…` — with no extra
 * dependency (pino-pretty is not installed). Values are quoted when they hold spaces, quotes or
 * control characters, and control characters are escaped, so a client-chosen string (HELO,
 * MAIL FROM) cannot forge a log line. An error's stack follows, indented, at error level only.
 * Touches: the stream it writes to (stdout).
 */
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

function value(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return '';
  return /^[^\s"=\\\p{Cc}]+$/u.test(s) ? s : JSON.stringify(s);
}

/** One JSON log line → one terminal line (the line itself when it is not pino JSON). */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.replace(/\p{Cc}/gu, (c) => JSON.stringify(c).slice(1, -1));
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  const level = (LEVELS[Number(o.level)] ?? String(o.level)).padEnd(5);
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(o)) {
    if (SKIP.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object') {
      const e = v as { type?: string; message?: string; stack?: string };
      fields.push(`err=${value(`${e.type ?? 'Error'}: ${e.message ?? ''}`)}`);
      if (Number(o.level) >= 50 && e.stack) stack = '\n' + e.stack.split('\n').slice(1).map((l) => '    ' + l.trim()).join('\n');
      continue;
    }
    fields.push(`${k}=${value(v)}`);
  }
  const msg = value(String(o.msg ?? '')).replace(/^"(.*)"$/, '$1');
  return `${time} ${level} ${String(o.name ?? '')}: ${msg}${fields.length ? ' ' + fields.join(' ') : ''}${stack}`;
}

/** A stream for pino that writes pretty lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream = process.stdout): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      const text = lines.filter((l) => l !== '').map((l) => prettyLine(l) + '\n').join('');
      if (text) out.write(text);
      cb();
    },
  });
}
