/**
 * @module cli/format
 * How the CLI writes and reads values: listings as an aligned table, RFC 4180 CSV or JSON;
 * untrusted text (subjects, HELO names, addresses: anything a client sent) reaches a terminal only
 * through terminalSafe (no ESC/OSC/BEL or other C0/C1 controls, no bidi overrides: Trojan Source,
 * CVE-2021-42574) and a spreadsheet only through csvField (a cell starting with = + - @ tab or CR
 * gets a leading ' — OWASP CSV injection);
 * single records; flag value parsers (booleans, Exchange enums, lists, ports, IPs) that throw a
 * UsageError (exit 2); the error classes and the error → exit code mapping main.ts uses.
 * Touches: the output stream it is given.
 */
import { CommanderError, Option } from 'commander';
import { isIpOrCidr } from '../core/cidr.ts';
import { DataVersionError } from '../core/data-version.ts';
import { ConfigError, configErrorLines } from '../config/index.ts';
import { OpsError } from '../ops/errors.ts';
import { cellText, csvTable } from '../core/csv.ts';

export { csvField } from '../core/csv.ts';

export type OutputFormat = 'table' | 'json' | 'csv';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'csv'];

/** Where the CLI writes (process.stdout, or a capture in tests). */
export interface Out {
  write(s: string): unknown;
}

/** A bad flag value or a wrong combination of flags: exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A command that could not do its job (unknown name, refused change): exit code 1. */
export class CliError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

const cell = cellText;

/** C0 controls but tab, CR and LF; DEL; C1 controls; bidi embeddings, overrides and isolates. */
const TERMINAL_UNSAFE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text safe to print on a terminal: every control character that could move the cursor, set a
 * title or hyperlink (ESC, OSC, BEL, C1 CSI) or reorder what is shown (bidi) becomes `?`; tab, CR
 * and LF are kept for the caller to lay out (a table turns them into spaces).
 */
export function terminalSafe(s: string): string {
  return s.replace(TERMINAL_UNSAFE, '?');
}

function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => terminalSafe(cell(r[c])).replace(/[\t\r\n]+/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd() + '\n';
  return line(columns.map((c) => c.toUpperCase())) + cells.map(line).join('');
}

/** Print rows as an aligned table (with a header), CSV (RFC 4180, CRLF) or a JSON array. */
export function printRows(rows: Record<string, unknown>[], columns: string[], format: OutputFormat, out: Out = process.stdout): void {
  if (format === 'json') {
    const picked = rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null])));
    out.write(JSON.stringify(picked, null, 2) + '\n');
  } else if (format === 'csv') {
    out.write(csvTable(rows, columns));
  } else {
    out.write(table(rows, columns));
  }
}

/** Print one record: `setting  value` lines (table), one CSV row with header, or a JSON object. */
export function printRecord(record: Record<string, unknown>, format: OutputFormat, out: Out = process.stdout): void {
  if (format === 'json') {
    out.write(JSON.stringify(record, null, 2) + '\n');
  } else if (format === 'csv') {
    printRows([record], Object.keys(record), 'csv', out);
  } else {
    const rows = Object.entries(record).map(([setting, value]) => ({ setting, value }));
    out.write(table(rows, ['setting', 'value']).split('\n').slice(1).join('\n'));
  }
}

/** Parse `--format`. */
export function parseFormat(v: string): OutputFormat {
  const f = v.toLowerCase();
  if ((OUTPUT_FORMATS as readonly string[]).includes(f)) return f as OutputFormat;
  throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')} (got "${v}")`);
}

/** Parse `true|false` (also `$true`/`$false` as in Exchange PowerShell, yes/no, 1/0). */
export function parseBool(v: string): boolean {
  const s = v.trim().toLowerCase().replace(/^\$/, '');
  if (['true', 'yes', '1', 'on'].includes(s)) return true;
  if (['false', 'no', '0', 'off'].includes(s)) return false;
  throw new UsageError(`expected true or false, got "${v}"`);
}

/** A parser for an enum flag; case-insensitive like Exchange, returns the canonical spelling. */
export function enumParser<T extends string>(flag: string, values: readonly T[]): (v: string) => T {
  return (v: string) => {
    const hit = values.find((x) => x.toLowerCase() === v.trim().toLowerCase());
    if (hit === undefined) throw new UsageError(`${flag} must be one of ${values.join(', ')} (got "${v}")`);
    return hit;
  };
}

/** Split repeated and comma-separated flag values into one list (Exchange takes "a,b"). */
export function splitList(values: readonly string[] | string | undefined): string[] {
  if (values === undefined) return [];
  const arr = typeof values === 'string' ? [values] : values;
  return arr.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** Parse a TCP port. */
export function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 65535) throw new UsageError(`invalid port "${v}" (1-65535)`);
  return n;
}

/** Parse a positive integer flag. */
export function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1) throw new UsageError(`expected a positive integer, got "${v}"`);
  return n;
}

/** Check a list of IPs/CIDRs; throws UsageError naming the first bad one. */
export function requireIps(flag: string, entries: readonly string[]): string[] {
  for (const e of entries) if (!isIpOrCidr(e)) throw new UsageError(`${flag}: "${e}" is not an IP address or CIDR`);
  return [...entries];
}

/** Exit code for an error thrown by a command: 2 usage, 1 anything else. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) return 2;
  if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
  return 1;
}

/**
 * Write an error the way the CLI reports it (ConfigErrors: one `file: path: reason` line each) and
 * return the exit code. Commander's own messages were already written by commander.
 */
export function reportError(e: unknown, err: Out = process.stderr): number {
  if (e instanceof CommanderError) return exitCodeFor(e);
  if (e instanceof ConfigError) for (const line of configErrorLines(e)) err.write(line + '\n');
  else if (e instanceof UsageError || e instanceof CliError || e instanceof DataVersionError || e instanceof OpsError) err.write(`mailgate: ${e.message}\n`);
  else err.write(`mailgate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return exitCodeFor(e);
}

/** The `--format table|json|csv` option every listing has. */
export function formatOption(): Option {
  return new Option('--format <format>', 'output format: table, json or csv').argParser(parseFormat).default('table');
}
