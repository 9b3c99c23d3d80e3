/**
 * @module cli/commands/token
 * `mailgate token add|list|remove`: bearer tokens of the admin API (scopes read, operate, admin).
 * The secret is printed once by `add` and never again; `list` shows when each was last used.
 * Touches: the api_token table (through ops/tokens).
 */
import type { Command } from 'commander';
import { addToken, listTokens, removeToken, TOKEN_SCOPES, type TokenScope } from '../../ops/tokens.ts';
import { defaultIo, withOps, type CliIo } from '../context.ts';
import { enumParser, formatOption, printRows, UsageError, type OutputFormat } from '../format.ts';

const parseScope = enumParser('--scope', TOKEN_SCOPES);

/** `--expires`: an ISO 8601 date or date-time (a bare date is its midnight UTC). */
export function parseExpiry(v: string): number {
  const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v.trim()) ? Date.parse(v.trim()) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`--expires: "${v}" is not a date (YYYY-MM-DD or an ISO 8601 date-time)`);
  return t;
}

const iso = (t: number | null): string => (t === null ? '' : new Date(t).toISOString());

/** Register `token add|list|remove`. */
export function registerToken(program: Command, io: CliIo = defaultIo()): void {
  const token = program.command('token').description('admin API bearer tokens');
  token
    .command('add')
    .description('create a token; its secret is printed once (only its SHA-256 is kept)')
    .argument('<name>', 'token name (recorded as the actor of every change made with it)')
    .requiredOption('--scope <scope>', 'read, operate (queue and quarantine actions) or admin (configuration)', parseScope)
    .option('--expires <date>', 'expiry, YYYY-MM-DD or an ISO 8601 date-time', parseExpiry)
    .action(async (name: string, opts: { scope: TokenScope; expires?: number }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const t = await addToken(ctx, { name, scope: opts.scope, ...(opts.expires !== undefined ? { expiresAt: opts.expires } : {}) });
        io.err.write(`token ${t.name} added (scope ${t.scope}${t.expiresAt !== null ? `, expires ${iso(t.expiresAt)}` : ''}); its secret follows and is not shown again\n`);
        io.out.write(`${t.secret}\n`);
      });
    });
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const rows = (await listTokens(ctx)).map((t) => ({ ...t, createdAt: iso(t.createdAt), lastUsedAt: iso(t.lastUsedAt), expiresAt: iso(t.expiresAt) }));
        printRows(rows, ['name', 'scope', 'createdAt', 'createdBy', 'lastUsedAt', 'expiresAt'], opts.format, io.out);
      });
    });
  token
    .command('remove')
    .description('revoke a token')
    .argument('<name>', 'token name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        await removeToken(ctx, name);
        io.out.write(`token ${name} removed\n`);
      });
    });
}
