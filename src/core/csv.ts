/**
 * @module core/csv
 * CSV for spreadsheets, shared by every output that writes it (CLI listings and reports, the admin
 * API's `?format=csv`): RFC 4180 fields (quoted when they hold a comma, quote, CR or LF; quotes
 * doubled; CRLF line ends) and OWASP's CSV-injection defence — a cell whose first character a
 * spreadsheet would take as a formula (= + - @, or a tab or CR before one) gets a leading '.
 * Touches: nothing.
 */

/** One CSV field (formula-escaped, then quoted per RFC 4180 when needed). */
export function csvField(s: string): string {
  const v = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A cell's text: arrays joined by commas, dates as ISO, objects as JSON, nothing as empty. */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map(cellText).join(',');
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A CSV cell of a value: numbers as they are (a negative count is not a formula), the rest through csvField. */
export function csvCell(v: unknown): string {
  return typeof v === 'number' || typeof v === 'bigint' ? String(v) : csvField(cellText(v));
}

/** Rows as CSV with a header line of `columns`, CRLF line ends (ending in one). */
export function csvTable(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const lines = [columns.map(csvField), ...rows.map((r) => columns.map((c) => csvCell(r[c])))];
  return lines.map((l) => l.join(',')).join('\r\n') + '\r\n';
}
