/**
 * @module audit/dates
 * The date format of an export, detected across its rows, never guessed from one row: Export-Csv
 * writes a DateTime in the culture of the Windows that ran it (`6/12/2026 1:00:00 PM` in en-US,
 * `06/12/2026 13:00:00` in en-GB and fr-FR, `6-12-2026 13:00:00` in nl-NL, `06.12.2026 13:00:00`
 * in de-DE), so `06/12/2026` is 6 December or June 12 depending on a machine mailgate never saw.
 * - A numeric date whose first number is above 12 settles day/month/year for the whole file; one
 *   whose second number is above 12 settles month/day/year. Rows read before the file is settled
 *   wait (audit/import reads them again once it is), and a file that ends unsettled is refused
 *   with the `--date-format` to pass. A row that contradicts the settled order is malformed.
 * - A dotted date (`06.12.2026`) is day first: no culture writes month.day.year.
 * - ISO 8601 and the other forms of audit/time need no detection.
 * `--date-format dmy|mdy` sets the order (no detection); `iso` accepts only ISO 8601 dates.
 * A settled date is rewritten to the unambiguous `M/D/YYYY …` form audit/time reads.
 * Touches: nothing (pure).
 */

export const DATE_FORMATS = ['auto', 'dmy', 'mdy', 'iso'] as const;
export type DateFormatFlag = (typeof DATE_FORMATS)[number];
type Order = 'dmy' | 'mdy';

const NUMERIC = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(\b.*)$/;
const ORDER_TEXT: Record<Order, string> = { dmy: 'day/month/year', mdy: 'month/day/year' };

/** What one date text says about the order: settles it, needs it, or says nothing (ISO, named month). */
export function dateEvidence(text: string): Order | 'ambiguous' | 'none' {
  const m = NUMERIC.exec(text.trim());
  if (!m) return 'none';
  if (m[2] === '.') return 'dmy';
  const a = Number(m[1]);
  const b = Number(m[3]);
  if (a > 12 && b <= 12) return 'dmy';
  if (b > 12 && a <= 12) return 'mdy';
  return a <= 12 && b <= 12 ? 'ambiguous' : 'none';
}

/** Per-file date order: given, settled by a row, or not yet known. */
export class DateOrder {
  order: Order | undefined;
  /** How the order was decided, for the file summary. */
  how = '';
  ambiguous = 0;
  /** Numeric dates seen (the order mattered). */
  numeric = 0;
  example: { text: string; line: number } | undefined;

  constructor(private readonly flag: DateFormatFlag = 'auto') {
    if (flag === 'dmy' || flag === 'mdy') {
      this.order = flag;
      this.how = `dates read as ${ORDER_TEXT[flag]} (--date-format ${flag})`;
    }
  }

  /**
   * Look at a row's date: 'ok' (map it now), 'wait' (ambiguous and the order is not known yet),
   * or why the row is malformed (it contradicts the settled order, or is not ISO under `iso`).
   */
  check(text: string, line: number): 'ok' | 'wait' | string {
    const e = dateEvidence(text);
    if (e === 'none') return 'ok';
    this.numeric++;
    if (this.flag === 'iso') return `date "${text.trim()}" is not ISO 8601 (--date-format iso)`;
    if (e === 'ambiguous') {
      if (this.order) return 'ok';
      this.ambiguous++;
      this.example ??= { text: text.trim(), line };
      return 'wait';
    }
    if (!this.order) {
      this.order = e;
      this.how = `dates read as ${ORDER_TEXT[e]}: settled by line ${line} ("${text.trim()}")`;
      return 'ok';
    }
    if (e !== this.order) return `date "${text.trim()}" is ${ORDER_TEXT[e]}, but this file's dates are ${ORDER_TEXT[this.order]} (${this.how})`;
    return 'ok';
  }

  /** A numeric date rewritten as `M/D/YYYY …` in the settled order (other text unchanged). */
  normalise(text: string): string {
    const m = NUMERIC.exec(text.trim());
    if (!m || !this.order) return text;
    const [mo, d] = this.order === 'dmy' || m[2] === '.' ? [m[3], m[1]] : [m[1], m[3]];
    return `${mo}/${d}/${m[4]}${m[5]}`;
  }

  /** The refusal of a file whose dates never settled. */
  refusal(file: string): string {
    const ex = this.example;
    const sample = ex ? ` (e.g. "${ex.text}" on line ${ex.line})` : '';
    const [a, b, y] = ex ? (NUMERIC.exec(ex.text)?.slice(1, 5) ?? []).filter((_, i) => i !== 1) : [];
    const mean = a && b && y ? `: with dmy "${ex!.text.split(/\s/)[0]}" is ${Number(a)} ${MONTH[Number(b) - 1]} ${y}, with mdy ${MONTH[Number(a) - 1]} ${Number(b)}, ${y}` : '';
    return `${file}: the date format is ambiguous: each of its ${this.ambiguous} numeric date(s)${sample} reads as day/month and as month/day (no day above 12 settles it); pass --date-format dmy or --date-format mdy${mean}`;
  }
}

const MONTH = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
