/**
 * @module web/app/components/time
 * A time as `<time>`: local text, ISO in `dateTime` and the tooltip.
 * Touches: nothing.
 */
import { formatTime, toDate } from '../format.ts';

export function Time({ t }: { t: number | string | null | undefined }) {
  const d = toDate(t);
  if (!d) return <span>—</span>;
  const iso = d.toISOString();
  return (
    <time dateTime={iso} title={iso}>
      {formatTime(d.getTime())}
    </time>
  );
}
