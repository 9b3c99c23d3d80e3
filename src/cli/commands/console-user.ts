/**
 * @module cli/commands/console-user
 * `mailgate console-user add|list|remove|passwd`: people who log in to the web console with a
 * name and password, each with an admin API scope (read, operate, admin). Passwords come from
 * stdin (first line, when piped) or a muted prompt, never from a flag; only scrypt hashes are
 * kept. Removing a user or changing their password ends their console sessions.
 * Touches: the console_user table (through ops/console-users); stdin for the password.
 */
import type { Command } from 'commander';
import { addConsoleUser, listConsoleUsers, removeConsoleUser, setConsoleUserPassword } from '../../ops/console-users.ts';
import { TOKEN_SCOPES, type TokenScope } from '../../ops/tokens.ts';
import { defaultIo, readPassword, withOps, type CliIo } from '../context.ts';
import { enumParser, formatOption, printRows, type OutputFormat } from '../format.ts';

const parseScope = enumParser('--scope', TOKEN_SCOPES);
const iso = (t: number): string => new Date(t).toISOString();

/** Register `console-user add|list|remove|passwd`. */
export function registerConsoleUser(program: Command, io: CliIo = defaultIo()): void {
  const cu = program.command('console-user').description('web console users (name and password)');
  cu.command('add')
    .description('add a console user (password from stdin when piped, else prompted; at least 10 characters)')
    .argument('<name>', 'user name (changes are recorded as console:NAME)')
    .requiredOption('--scope <scope>', 'read, operate (queue and quarantine actions) or admin (configuration)', parseScope)
    .action(async (name: string, opts: { scope: TokenScope }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const password = await readPassword(io, `Password for ${name}: `);
        const u = await addConsoleUser(ctx, { name, scope: opts.scope, password });
        io.out.write(`console user ${u.name} added (scope ${u.scope})\n`);
      });
    });
  cu.command('passwd')
    .description("change a console user's password (from stdin when piped, else prompted); their sessions end")
    .argument('<name>', 'user name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        await setConsoleUserPassword(ctx, name, await readPassword(io, `New password for ${name}: `));
        io.out.write(`password of console user ${name} changed; their sessions ended\n`);
      });
    });
  cu.command('list')
    .description('list console users (never their hashes)')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const rows = (await listConsoleUsers(ctx)).map((u) => ({ ...u, createdAt: iso(u.createdAt), passwordChangedAt: iso(u.passwordChangedAt) }));
        printRows(rows, ['name', 'scope', 'createdAt', 'createdBy', 'passwordChangedAt'], opts.format, io.out);
      });
    });
  cu.command('remove')
    .description('remove a console user; their sessions end')
    .argument('<name>', 'user name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        await removeConsoleUser(ctx, name);
        io.out.write(`console user ${name} removed\n`);
      });
    });
}
