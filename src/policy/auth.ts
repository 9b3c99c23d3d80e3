/**
 * @module policy/auth
 * SMTP AUTH rules at MAIL FROM: a listener with requireAuth refuses MAIL before AUTH (Exchange
 * 5.7.57 "Client was not authenticated"), and an authenticated user may use only the MAIL FROM
 * addresses its sendAs list permits: an exact address, "@domain" (any address in that domain) or
 * "*" (Exchange 5.7.60 "Client does not have permissions to send as this sender"). A user missing
 * from the snapshot (removed while the session was open) is denied. The null sender is allowed
 * (an authenticated client may send DSNs).
 * Touches: nothing (pure). RFCs: 4954 §6 (530 5.7.0), 6409 §6.1 (submission: sender checks).
 */
import { parseAddress } from '../core/address.ts';
import { reject, type Check } from './context.ts';
import type { CompiledUser } from './types.ts';

/** requireAuth listener and no AUTH → 'auth-required'. */
export const checkAuthRequired: Check = (ctx) =>
  ctx.listener.requireAuth && !ctx.input.authUser ? reject('auth-required', 'auth:required', { listener: ctx.listener.name }) : undefined;

/** True when `user` may use `mailFrom` ('' = null sender, always allowed). */
export function maySendAs(user: CompiledUser | undefined, mailFrom: string): boolean {
  if (user === undefined) return false;
  const a = parseAddress(mailFrom);
  if (a.raw === '') return true;
  if (user.sendAs.includes('*')) return true;
  if (a.invalid) return false;
  const address = a.address.toLowerCase();
  return user.sendAs.some((s) => s.toLowerCase() === address || s === '@' + a.domain);
}

/** Authenticated user with a MAIL FROM outside its sendAs → 'send-as-denied'. */
export const checkSendAs: Check = (ctx) => {
  const { authUser, mailFrom } = ctx.input;
  if (!authUser || mailFrom === undefined) return undefined;
  const users = ctx.snap.users;
  const key = authUser.toLowerCase();
  const user = Object.hasOwn(users, key) ? users[key] : undefined;
  return maySendAs(user, mailFrom) ? undefined : reject('send-as-denied', 'auth:send-as', { user: authUser, sender: mailFrom });
};
