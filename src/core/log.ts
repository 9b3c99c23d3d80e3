/**
 * @module core/log
 * pino logger factory. Child loggers carry connectionId / queueId so every line of one
 * transaction can be found. Level from MAILGATE_LOG_LEVEL (default info; "silent" in tests);
 * MAILGATE_LOG_FORMAT=pretty writes one readable line per entry for a terminal (core/log-pretty),
 * anything else JSON lines.
 * Touches: stdout.
 */
import { pino, type Logger } from 'pino';
import { prettyStream } from './log-pretty.ts';

export type { Logger };

/** Create the root logger for a process. */
export function createLogger(name = 'mailgate', level?: string): Logger {
  const opts = {
    name,
    level: level ?? process.env.MAILGATE_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return process.env.MAILGATE_LOG_FORMAT === 'pretty' ? pino(opts, prettyStream()) : pino(opts);
}

/** A logger that writes nothing (unit tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
