/**
 * @module stores/postgres/migrations/types
 * The shape of one schema migration.
 * Touches: nothing.
 */
import type { PoolClient } from 'pg';

export interface Migration {
  /** 1, 2, 3 … equal to its position in MIGRATIONS. */
  version: number;
  name: string;
  /** Runs inside the migration's transaction with search_path set to the mailgate schema. */
  up(client: PoolClient): Promise<void>;
}
