/**
 * @module core/log
 * pino logger factory. Child loggers carry connectionId / queueId so every line of one
 * transaction can be found. Level from MAILGATE_LOG_LEVEL (default info; "silent" in tests).
 * Touches: stdout.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Create the root logger for a process. */
export function createLogger(name = 'mailgate', level?: string): Logger {
  return pino({
    name,
    level: level ?? process.env.MAILGATE_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that writes nothing (unit tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
