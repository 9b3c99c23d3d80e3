/**
 * @module cli/commands/user
 * `mailgate user add|list|remove|passwd`: SMTP AUTH accounts. Passwords come from stdin (first
 * line, when piped) or a muted prompt, never from a flag; only scrypt hashes are stored and
 * listings never show them.
 * The logic is ops/users'; this file reads the password and prints.
 * Touches: the config store (through ops/users); stdin for the password.
 */
import type { Command } from 'commander';
import { addUser, listUsers, removeUser, requireNewUser, requireUser, setUserPassword } from '../../ops/users.ts';
import { changedIn, defaultIo, readPassword, withOps, type CliIo } from '../context.ts';
import { formatOption, printRows, splitList, type OutputFormat } from '../format.ts';

function registerAdd(user: Command, io: CliIo): void {
  user
    .command('add')
    .description('add an SMTP AUTH user (password from stdin when piped, else prompted)')
    .argument('<name>', 'user name (an address, so it may send as itself)')
    .option('--send-as <addr...>', 'addresses or @domain this user may use as MAIL FROM ("*" = any)')
    .action(async (name: string, opts: { sendAs?: string[] }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        await requireNewUser(ctx, name);
        const password = await readPassword(io, `Password for ${name}: `);
        const { version } = await addUser(ctx, { name, password, sendAs: splitList(opts.sendAs) });
        io.out.write(`user ${name} added (${changedIn(ctx, version)})\n`);
      });
    });
}

function registerPasswd(user: Command, io: CliIo): void {
  user
    .command('passwd')
    .description("change a user's password (from stdin when piped, else prompted)")
    .argument('<name>', 'user name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        await requireUser(ctx, name);
        const { version } = await setUserPassword(ctx, name, await readPassword(io, `New password for ${name}: `));
        io.out.write(`password of ${name} changed (${changedIn(ctx, version)})\n`);
      });
    });
}

/** Register `user add|list|remove|passwd`. */
export function registerUser(program: Command, io: CliIo = defaultIo()): void {
  const user = program.command('user').description('SMTP AUTH users');
  registerAdd(user, io);
  registerPasswd(user, io);
  user
    .command('list')
    .description('list users (never their hashes)')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        printRows(await listUsers(ctx), ['name', 'sendAs'], opts.format, io.out);
      });
    });
  user
    .command('remove')
    .description('remove a user')
    .argument('<name>', 'user name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version } = await removeUser(ctx, name);
        io.out.write(`user ${name} removed (${changedIn(ctx, version)})\n`);
      });
    });
}
