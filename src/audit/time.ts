/**
 * @module audit/time
 * Timestamps as Exchange Online exports write them, all read as UTC (Get-MessageTraceV2, the
 * historical search reports and EmailEvents are UTC; an explicit offset is honoured):
 * - ISO 8601 with any number of fractional digits (`2025-03-04T10:20:30.1234567Z`, .NET's "o"),
 *   with `T` or a space, with or without `Z`/offset, seconds optional;
 * - `M/D/YYYY h:mm[:ss] AM/PM` and `M/D/YYYY H:mm[:ss]` (Windows PowerShell 5.1 `Export-Csv` of a
 *   DateTime under en-US); when the first number is above 12 the date is read as D/M/YYYY;
 * - the EAC report dates: `YYYY-MM-DD`, `M/D/YYYY`, `D.M.YYYY`, and `Mon D, YYYY` / `D Mon YYYY`
 *   (a date alone is midnight UTC).
 * Touches: nothing (pure).
 * RFCs: 3339.
 */

const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*([AP]\.?M\.?)?)?$/i;
const DOTTED = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const NAMED_MDY = /^(?:[a-z]+,?\s+)?([a-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})$/i;
const NAMED_DMY = /^(?:[a-z]+,?\s+)?(\d{1,2})\s+([a-z]{3})[a-z]*\.?,?\s+(\d{4})$/i;

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, frac = ''): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return new Date(t).getUTCDate() === d ? t : undefined;
}

function offsetMs(z: string | undefined): number {
  if (!z || z.toUpperCase() === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(z);
  if (!m) return 0;
  const v = (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  return m[1] === '-' ? -v : v;
}

/** Parse an export timestamp to epoch ms (UTC), or undefined when it is none of the accepted forms. */
export function parseExoTime(text: string): number | undefined {
  const s = text.trim();
  let m = ISO.exec(s);
  if (m) {
    const t = utc(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7] ?? '');
    return t === undefined ? undefined : t - offsetMs(m[8]);
  }
  m = US.exec(s);
  if (m) {
    let a = +m[1]!;
    let b = +m[2]!;
    if (a > 12) [a, b] = [b, a];
    let h = +(m[4] ?? 0);
    const ampm = m[8]?.replace(/\./g, '').toUpperCase();
    if (ampm) {
      if (h < 1 || h > 12) return undefined;
      if (ampm === 'AM' && h === 12) h = 0;
      if (ampm === 'PM' && h !== 12) h += 12;
    }
    return utc(+m[3]!, a, b, h, +(m[5] ?? 0), +(m[6] ?? 0), m[7] ?? '');
  }
  m = DOTTED.exec(s);
  if (m) return utc(+m[3]!, +m[2]!, +m[1]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  m = NAMED_MDY.exec(s);
  if (m) {
    const mo = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
    return mo ? utc(+m[3]!, mo, +m[2]!) : undefined;
  }
  m = NAMED_DMY.exec(s);
  if (m) {
    const mo = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
    return mo ? utc(+m[3]!, mo, +m[1]!) : undefined;
  }
  return undefined;
}
