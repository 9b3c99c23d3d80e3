/**
 * @module audit/progress
 * Import progress on stderr: on a terminal a bar redrawn in place (`\r`) with bytes done, rows,
 * rows/s and ETA (from bytes, since row sizes vary), at most ten times a second; elsewhere (a
 * pipe, a log, CI) one plain line every few seconds, so logs stay readable.
 * Touches: the stream it is given.
 */

export interface ProgressOut {
  write(s: string): unknown;
  isTTY?: boolean | undefined;
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Progress of an import over `totalBytes` bytes of input. */
export class Progress {
  private readonly started: number;
  private last = 0;
  private drawn = false;

  constructor(
    private readonly out: ProgressOut | undefined,
    private readonly totalBytes: number,
    private readonly opts: { intervalMs?: number; now?: () => number } = {},
  ) {
    this.started = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Report bytes read and rows seen so far (cheap: draws only when due). */
  tick(bytes: number, rows: number): void {
    if (!this.out) return;
    const t = this.now();
    const every = this.out.isTTY ? 100 : (this.opts.intervalMs ?? 5000);
    if (t - this.last < every) return;
    this.last = t;
    this.draw(bytes, rows, t);
  }

  /** The line for the current state. */
  line(bytes: number, rows: number, t = this.now()): string {
    const secs = Math.max(0.001, (t - this.started) / 1000);
    const frac = this.totalBytes > 0 ? Math.min(1, bytes / this.totalBytes) : 1;
    const rate = rows / secs;
    const eta = frac > 0 ? (secs * (1 - frac)) / frac : Infinity;
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    const stats = `${rows.toLocaleString('en-US')} rows  ${Math.round(rate).toLocaleString('en-US')} rows/s  ETA ${clock(eta)}`;
    if (!this.out?.isTTY) return `import: ${pct} ${stats}`;
    const width = 30;
    const fill = Math.round(frac * width);
    return `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${pct} ${stats}`;
  }

  private draw(bytes: number, rows: number, t: number): void {
    if (!this.out) return;
    if (this.out.isTTY) {
      this.out.write(`\r${this.line(bytes, rows, t)}\x1b[K`);
      this.drawn = true;
    } else this.out.write(this.line(bytes, rows, t) + '\n');
  }

  /** Finish: clear the bar line on a terminal. */
  done(): void {
    if (this.out?.isTTY && this.drawn) this.out.write('\r\x1b[K');
  }
}
