/**
 * @module cli/commands/init
 * `mailgate init`: create a data directory (mode 0700) with its store, seeded with configuration
 * version 1 from the example config. The only command besides `serve` that creates a store, so a
 * command run from the wrong directory fails instead of changing a new, unused one.
 * Touches: the data directory (created) and its SQLite store, through cli/context.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { dataDirOf, defaultIo, initDataDir, type CliIo } from '../context.ts';

/** Register `init`. */
export function registerInit(program: Command, io: CliIo = defaultIo()): void {
  program
    .command('init')
    .description('create the data directory and its store (config version 1 from mailgate.example.yaml)')
    .action((_o: unknown, cmd: Command) => {
      const dir = dataDirOf(cmd);
      const existed = existsSync(join(dir, 'mailgate.db'));
      const v = initDataDir(dir);
      io.out.write(existed ? `${dir} already holds a mailgate store (config version ${v}); nothing changed\n` : `created ${dir} (config version ${v} from mailgate.example.yaml)\n`);
    });
}
