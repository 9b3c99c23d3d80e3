/**
 * @module smtp/refusal-log
 * Every policy refusal (5.7.68, 5.7.51, 5.7.64, 5.7.1, 5.7.509 …) as one info line an admin can
 * read — client IP, MAIL FROM, recipient, reply code and the trace id to look it up — limited per
 * client IP so a flood does not flood the log: at most LINES_PER_WINDOW lines per IP per
 * WINDOW_MS; the rest are counted and summed up in one "N more refusals suppressed" line when the
 * window ends. The table of IPs is bounded (MAX_IPS); past it, refusals are counted together.
 * Touches: the logger it is given; one unref'd timer per logger.
 */
import type { Logger } from '../core/log.ts';

export const WINDOW_MS = 60_000;
export const LINES_PER_WINDOW = 10;
const MAX_IPS = 10_000;

/** What is logged about one refusal. */
export interface Refusal {
  ip: string;
  listener: string;
  reply: string;
  id: string;
  mailFrom?: string | undefined;
  rcpt?: string | undefined;
  attribution?: string | undefined;
}

interface Window {
  logged: number;
  suppressed: number;
}

/** Per-IP rate-limited refusal lines for one logger. */
export class RefusalLog {
  private ips = new Map<string, Window>();
  private overflow = 0;

  constructor(
    private readonly logger: Logger,
    windowMs = WINDOW_MS,
    private readonly perWindow = LINES_PER_WINDOW,
  ) {
    setInterval(() => this.endWindow(), windowMs).unref();
  }

  log(r: Refusal): void {
    let w = this.ips.get(r.ip);
    if (!w) {
      if (this.ips.size >= MAX_IPS) {
        this.overflow++;
        return;
      }
      w = { logged: 0, suppressed: 0 };
      this.ips.set(r.ip, w);
    }
    if (w.logged >= this.perWindow) {
      w.suppressed++;
      return;
    }
    w.logged++;
    const code = /^\d{3}(?: \d\.\d{1,3}\.\d{1,3})?/.exec(r.reply)?.[0];
    this.logger.info(
      { ip: r.ip, listener: r.listener, mailFrom: r.mailFrom, rcpt: r.rcpt, attribution: r.attribution, code, id: r.id, reply: r.reply },
      w.logged === this.perWindow ? `refused (further refusals from ${r.ip} this minute are counted, not logged: at most ${this.perWindow} lines per IP per minute)` : 'refused',
    );
  }

  /** Close the window: one line per IP that had refusals suppressed, then start afresh. */
  endWindow(): void {
    for (const [ip, w] of this.ips) {
      if (w.suppressed > 0) this.logger.info({ ip, suppressed: w.suppressed }, `${w.suppressed} more refusals from ${ip} suppressed in the last minute`);
    }
    if (this.overflow > 0) this.logger.info({ suppressed: this.overflow }, `${this.overflow} more refusals from other IPs suppressed in the last minute (too many IPs to track)`);
    this.ips = new Map();
    this.overflow = 0;
  }
}

const byLogger = new WeakMap<Logger, RefusalLog>();

/** The refusal log of a logger (one per gateway process, shared by its listeners). */
export function refusalLogFor(logger: Logger): RefusalLog {
  let r = byLogger.get(logger);
  if (!r) {
    r = new RefusalLog(logger);
    byLogger.set(logger, r);
  }
  return r;
}
