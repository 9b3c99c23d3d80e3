/**
 * @module stores/postgres/migrations
 * The ordered list of schema migrations. Append only: a released migration is never edited or
 * renumbered (nodes already ran it); a change is a new migration at the end.
 * Touches: nothing (migrate.ts runs them).
 */
import type { Migration } from './types.ts';
import { m0001Config } from './0001-config.ts';
import { m0002Trace } from './0002-trace.ts';
import { m0003Alerts } from './0003-alerts.ts';

export type { Migration } from './types.ts';

export const MIGRATIONS: readonly Migration[] = [m0001Config, m0002Trace, m0003Alerts];
