/**
 * @module stores/bootstrap
 * Which configuration store a data directory uses: `<data>/store.yaml` written by
 * `mailgate init --store postgres://…` (`kind: postgres`, `url`, `schema`); no file means the
 * embedded SQLite store (`<data>/mailgate.db`). The file is written 0600 (the URL may hold a
 * password). It cannot live in the configuration itself: it says where that configuration is.
 * Touches: <data>/store.yaml.
 */
import { existsSync, readFileSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { DEFAULT_SCHEMA, checkIdentifier } from './postgres/pool.ts';

export const BOOTSTRAP_FILE = 'store.yaml';

const Bootstrap = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite') }).strict(),
  z
    .object({
      kind: z.literal('postgres'),
      url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
      schema: z.string().default(DEFAULT_SCHEMA),
    })
    .strict(),
]);

export type StoreBootstrap = z.infer<typeof Bootstrap>;

/** The data directory's store choice (SQLite when it has no store.yaml); a bad file is an Error naming it. */
export function readBootstrap(dataDir: string): StoreBootstrap {
  const file = join(dataDir, BOOTSTRAP_FILE);
  if (!existsSync(file)) return { kind: 'sqlite' };
  let parsed: StoreBootstrap;
  try {
    parsed = Bootstrap.parse(parse(readFileSync(file, 'utf8')));
  } catch (e) {
    const msg = e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ') : (e as Error).message;
    throw new Error(`${file}: ${msg}`);
  }
  if (parsed.kind === 'postgres') checkIdentifier(parsed.schema);
  return parsed;
}

/** Write the data directory's store choice (0600, replaced atomically). */
export function writeBootstrap(dataDir: string, b: StoreBootstrap): void {
  if (b.kind === 'postgres') checkIdentifier(b.schema);
  const file = join(dataDir, BOOTSTRAP_FILE);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `# which configuration store this node uses (mailgate init --store)\n${stringify(b)}`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
