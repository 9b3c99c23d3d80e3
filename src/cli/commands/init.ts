/**
 * @module cli/commands/init
 * `mailgate init`: create a data directory (mode 0700) with its store, seeded with configuration
 * version 1 from the example config. The only command besides `serve` that creates a store, so a
 * command run from the wrong directory fails instead of changing a new, unused one.
 * `--store postgres://… [--schema NAME]` makes the directory a fleet node's: its store.yaml names
 * the shared PostgreSQL schema, which is created or upgraded (versioned migrations) and seeded
 * when empty; queue, spool and the local trace stay in the directory.
 * Touches: the data directory (created), its SQLite store, store.yaml; the PostgreSQL schema.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadExampleConfig } from '../../config/index.ts';
import { readBootstrap, writeBootstrap, type StoreBootstrap } from '../../stores/bootstrap.ts';
import { prepareStore } from '../../stores/open.ts';
import { checkIdentifier, DEFAULT_SCHEMA, redactUrl } from '../../stores/postgres/pool.ts';
import { actor, dataDirOf, defaultIo, openContext, type CliIo } from '../context.ts';
import { CliError, UsageError } from '../format.ts';

function wanted(o: { store?: string; schema?: string }): StoreBootstrap | undefined {
  if (o.store === undefined) {
    if (o.schema !== undefined) throw new UsageError('--schema needs --store postgres://…');
    return undefined;
  }
  if (!/^postgres(ql)?:\/\//.test(o.store)) throw new UsageError(`--store: a postgres://user@host:port/database URL (got ${redactUrl(o.store)})`);
  const schema = o.schema ?? DEFAULT_SCHEMA;
  try {
    checkIdentifier(schema);
  } catch (e) {
    throw new UsageError(`--schema: ${(e as Error).message}`);
  }
  return { kind: 'postgres', url: o.store, schema };
}

/** Register `init`. */
export function registerInit(program: Command, io: CliIo = defaultIo()): void {
  program
    .command('init')
    .description('create the data directory and its store (config version 1 from mailgate.example.yaml)')
    .option('--store <url>', 'keep the configuration in this PostgreSQL database (postgres://user@host:port/db), shared by a fleet')
    .option('--schema <name>', `the PostgreSQL schema (default ${DEFAULT_SCHEMA})`)
    .action(async (o: { store?: string; schema?: string }, cmd: Command) => {
      const dir = dataDirOf(cmd);
      const want = wanted(o);
      const existed = existsSync(join(dir, 'mailgate.db'));
      if (existed) {
        const have = readBootstrap(dir);
        const same = have.kind === 'postgres' ? want?.kind === 'postgres' && have.url === want.url && have.schema === want.schema : !want;
        if (want && !same) throw new CliError(`${dir} already holds a mailgate store (${have.kind === 'postgres' ? `${redactUrl(have.url)} schema ${have.schema}` : 'SQLite'}); use a new --data directory`);
      } else if (want) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeBootstrap(dir, want);
      }
      const ctx = openContext({ data: dir, create: true });
      try {
        let applied: number[] = [];
        // SQLite was seeded as it was opened; a shared schema may hold the fleet's configuration already.
        let seeded = ctx.backing.bootstrap.kind === 'sqlite';
        try {
          applied = await prepareStore(ctx.backing);
          if (!seeded) seeded = (await ctx.store.currentVersion()) === 0 && (await ctx.store.ensureInitial(loadExampleConfig(), actor(), 'initial configuration (mailgate.example.yaml)')) === 1;
        } catch (e) {
          throw new CliError(`${ctx.backing.where}: ${(e as Error).message}`);
        }
        const v = await ctx.store.currentVersion();
        const where = ctx.backing.bootstrap.kind === 'postgres' ? ` with its configuration in ${ctx.backing.where}${applied.length ? ` (migrations ${applied.join(', ')} applied)` : ''}` : '';
        const from = seeded ? ' from mailgate.example.yaml' : ', the fleet\'s';
        io.out.write(existed ? `${dir} already holds a mailgate store (config version ${v}); nothing changed\n` : `created ${dir}${where} (config version ${v}${from})\n`);
      } finally {
        await ctx.close();
      }
    });
}
