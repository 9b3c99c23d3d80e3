/**
 * @module cli/commands/user
 * `mailgate user add|list|remove|passwd`: SMTP AUTH accounts. Passwords come from stdin (first
 * line, when piped) or a muted prompt, never from a flag; only scrypt hashes are stored and
 * listings never show them.
 * Touches: the config store (through cli/context); stdin for the password.
 */
import type { Command } from 'commander';
import { hashPassword } from '../../config/index.ts';
import { actor, changedIn, defaultIo, indexOfNamed, readPassword, requireNamed, registerRemoveNamed, withContext, type CliIo } from '../context.ts';
import { CliError, formatOption, printRows, splitList, type OutputFormat } from '../format.ts';

function registerAdd(user: Command, io: CliIo): void {
  user
    .command('add')
    .description('add an SMTP AUTH user (password from stdin when piped, else prompted)')
    .argument('<name>', 'user name (an address, so it may send as itself)')
    .option('--send-as <addr...>', 'addresses or @domain this user may use as MAIL FROM ("*" = any)')
    .action(async (name: string, opts: { sendAs?: string[] }, cmd: Command) => {
      await withContext(cmd, async ({ store, dataDir }) => {
        if (indexOfNamed(store.current()?.config.users ?? [], name) >= 0) throw new CliError(`user "${name}" already exists`);
        const passwordHash = await hashPassword(await readPassword(io, `Password for ${name}: `));
        const v = store.update(actor(), `user add ${name}`, (draft) => {
          if (indexOfNamed(draft.users, name) >= 0) throw new CliError(`user "${name}" already exists`);
          draft.users.push({ name, passwordHash, sendAs: splitList(opts.sendAs) });
        });
        io.out.write(`user ${name} added (${changedIn({ dataDir }, v)})\n`);
      });
    });
}

function registerPasswd(user: Command, io: CliIo): void {
  user
    .command('passwd')
    .description("change a user's password (from stdin when piped, else prompted)")
    .argument('<name>', 'user name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withContext(cmd, async ({ store, dataDir }) => {
        requireNamed(store.current()?.config.users ?? [], name, 'user');
        const passwordHash = await hashPassword(await readPassword(io, `New password for ${name}: `));
        const v = store.update(actor(), `user passwd ${name}`, (draft) => {
          requireNamed(draft.users, name, 'user').passwordHash = passwordHash;
        });
        io.out.write(`password of ${name} changed (${changedIn({ dataDir }, v)})\n`);
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
      await withContext(cmd, ({ store }) => {
        const rows = (store.current()?.config.users ?? []).map((u) => ({ name: u.name, sendAs: u.sendAs }));
        printRows(rows, ['name', 'sendAs'], opts.format, io.out);
      });
    });
  registerRemoveNamed(user, io, { description: 'remove a user', noun: 'user', verb: 'user', list: (c) => c.users });
}
