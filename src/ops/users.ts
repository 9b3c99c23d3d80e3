/**
 * @module ops/users
 * SMTP AUTH accounts: only scrypt hashes are stored (config/passwords), listings never show them.
 * Passwords arrive as arguments (the CLI reads them from stdin or a muted prompt, the API from a
 * request body over HTTPS or loopback); an empty one is refused. Every change is a config version.
 * Touches: the config store of the context.
 */
import { hashPassword } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { change, current, indexOfNamed, removeNamed, requireNamed, type Changed } from './model.ts';

/** A user as listed: never the hash. */
export type UserInfo = {
  name: string;
  sendAs: string[];
};

const NOUN = 'user';

function requirePassword(password: string): void {
  if (password === '') throw new OpsError('invalid', 'empty password');
}

/** Every user, without hashes. */
export async function listUsers(ctx: OpsContext): Promise<UserInfo[]> {
  return (await current(ctx)).users.map((u) => ({ name: u.name, sendAs: [...u.sendAs] }));
}

/** Refuse a name already taken (checked before a password is asked for, and again under the write lock). */
export async function requireNewUser(ctx: OpsContext, name: string): Promise<void> {
  if (indexOfNamed((await current(ctx)).users, name) >= 0) throw new OpsError('conflict', `user "${name}" already exists`);
}

/** Refuse a name that is not a user. */
export async function requireUser(ctx: OpsContext, name: string): Promise<void> {
  requireNamed((await current(ctx)).users, name, NOUN);
}

/** Add user `name` with `password` (stored as its scrypt hash). */
export async function addUser(ctx: OpsContext, input: { name: string; password: string; sendAs?: string[] }): Promise<Changed> {
  requirePassword(input.password);
  await requireNewUser(ctx, input.name);
  const passwordHash = await hashPassword(input.password);
  return change(ctx, `user add ${input.name}`, (draft) => {
    if (indexOfNamed(draft.users, input.name) >= 0) throw new OpsError('conflict', `user "${input.name}" already exists`);
    draft.users.push({ name: input.name, passwordHash, sendAs: input.sendAs ?? [] });
  });
}

/** Change the password of user `name`. */
export async function setUserPassword(ctx: OpsContext, name: string, password: string): Promise<Changed> {
  requirePassword(password);
  await requireUser(ctx, name);
  const passwordHash = await hashPassword(password);
  return change(ctx, `user passwd ${name}`, (draft) => {
    requireNamed(draft.users, name, NOUN).passwordHash = passwordHash;
  });
}

/** Remove user `name`. */
export async function removeUser(ctx: OpsContext, name: string): Promise<Changed> {
  return removeNamed(ctx, name, { noun: NOUN, verb: 'user', list: (c) => c.users });
}
