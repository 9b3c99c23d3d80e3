/**
 * @module trace/window
 * Time windows for trace searches and reports (`--since 7d`, `--since 2024-05-01`): a relative
 * duration counted back from `now`, or an absolute ISO 8601 date / date-time (RFC 3339).
 * Pure: `now` is passed in.
 * Touches: nothing.
 */

const UNIT_MS: Readonly<Record<string, number>> = Object.freeze({
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
});

const DURATION = /^(\d{1,9})\s*([smhdw])$/;
// YYYY-MM-DD, optionally THH:MM[:SS[.fff]] and Z or ±HH:MM (no offset = local time, as Date.parse).
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

const HINT = 'expected a duration such as 90m, 1h, 2d, 7d (units s, m, h, d, w) or an ISO date such as 2024-05-01 or 2024-05-01T12:00:00Z';

/** Parse a duration such as "90m", "2d" into milliseconds; undefined if it is not one. */
export function parseDurationMs(input: string): number | undefined {
  const m = DURATION.exec(input.trim().toLowerCase());
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const unit = UNIT_MS[m[2]];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

function validCalendar(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= daysInMonth;
}

/**
 * The lower bound (ms epoch) of a window: `now - duration` for "2d", "90m", "1h", "7d", …, or
 * the instant an ISO date names ("2024-05-01" is midnight UTC). Throws an Error naming the input
 * and the accepted forms on anything else (including impossible dates such as 2024-02-30).
 */
export function parseSince(input: string, now: number): number {
  const text = String(input).trim();
  if (text === '') throw new Error(`invalid time window "": ${HINT}`);
  const ms = parseDurationMs(text);
  if (ms !== undefined) return now - ms;
  const m = ISO.exec(text);
  if (m) {
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? 0)) as [
      number, number, number, number, number, number,
    ];
    let normalized = text.replace(' ', 'T');
    // Accept ±HHMM offsets, which Date.parse does not.
    normalized = normalized.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    const t = Date.parse(normalized);
    if (validCalendar(y, mo, d, h, mi, s) && Number.isFinite(t)) return t;
  }
  throw new Error(`invalid time window "${text}": ${HINT}`);
}
