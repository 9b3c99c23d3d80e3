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
import type { Command } from 'commander';
import { DEFAULT_STORE_SCHEMA, dataDirOf, defaultIo, initDataDir, storeWanted, type CliIo } from '../context.ts';

/** Register `init`. */
export function registerInit(program: Command, io: CliIo = defaultIo()): void {
  program
    .command('init')
    .description('create the data directory and its store (config version 1 from mailgate.example.yaml)')
    .option('--store <url>', 'keep the configuration in this PostgreSQL database (postgres://user@host:port/db), shared by a fleet')
    .option('--schema <name>', `the PostgreSQL schema (default ${DEFAULT_STORE_SCHEMA})`)
    .action(async (o: { store?: string; schema?: string }, cmd: Command) => {
      const dir = dataDirOf(cmd);
      const r = await initDataDir(dir, storeWanted(o));
      const where = r.where ? ` with its configuration in ${r.where}${r.applied.length ? ` (migrations ${r.applied.join(', ')} applied)` : ''}` : '';
      const from = r.seeded ? ' from mailgate.example.yaml' : ", the fleet's";
      io.out.write(r.existed ? `${dir} already holds a mailgate store (config version ${r.version}); nothing changed\n` : `created ${dir}${where} (config version ${r.version}${from})\n`);
    });
}
