/**
 * @module stores/postgres/int8
 * Per-query type parsing for the trace: BIGINT columns (ms times, sizes, counts) as numbers, not
 * the strings pg returns by default (ms epochs stay far below 2^53). Per query, so the process-wide
 * pg.types (the config store's and anyone else's) are left alone.
 * Touches: nothing.
 */
import pg from 'pg';

export const NUMERIC_INT8 = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string): number => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};
