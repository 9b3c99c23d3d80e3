/**
 * @module web/app/format
 * Times, ages, counts and sizes as the console shows them. Times are epoch milliseconds or ISO
 * strings from the API, shown in the browser's locale and time zone, with the ISO form in a
 * tooltip (pages render `<time dateTime>`).
 * Touches: nothing.
 */

/** Epoch ms or an ISO string → Date (undefined when missing or not a time). */
export function toDate(t: number | string | null | undefined): Date | undefined {
  if (t === null || t === undefined || t === '') return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** "7 Dec 2026, 21:40:05" in the browser's locale; "—" when missing. */
export function formatTime(t: number | string | null | undefined): string {
  const d = toDate(t);
  return d ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '—';
}

/** A duration in ms as "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** How long ago `t` was, e.g. "5 min ago". */
export function formatAgo(t: number | string | null | undefined, now = Date.now()): string {
  const d = toDate(t);
  return d ? `${formatDuration(now - d.getTime())} ago` : '—';
}

/** 12345 → "12,345" in the browser's locale. */
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString();
}

/** Bytes as "512 B", "14.2 KB", "3.1 MB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
