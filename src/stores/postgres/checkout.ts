/**
 * @module stores/postgres/checkout
 * Borrow one pooled client for a unit of work, safely (withClient; guardClient for a caller that
 * manages the checkout itself: transactions, migrations, a cursor): while checked out, a client whose
 * connection drops (PostgreSQL restarted, a network cut) emits 'error', which pg's pool does not
 * listen for on busy clients, so without a listener the process would crash; here the error is
 * kept and the query in flight fails as usual. A client that failed is destroyed, not reused.
 * Touches: the pool's connections.
 */
import type { Pool, PoolClient } from 'pg';

/**
 * Listen for `c`'s connection dropping while it is checked out (module header); `release` gives it
 * back to the pool, destroying it when it dropped or `failed`.
 */
export function guardClient(c: PoolClient): { dropped(): Error | undefined; release(failed: boolean): void } {
  let dropped: Error | undefined;
  const onError = (err: Error): void => {
    dropped = err;
  };
  c.on('error', onError);
  return {
    dropped: () => dropped,
    release(failed) {
      c.off('error', onError);
      // A failed unit may have left the session mid-transaction or the socket dead: never reuse it.
      c.release(dropped ?? failed);
    },
  };
}

/** Run `fn` with one client of `pool` (module header). */
export async function withClient<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  const guard = guardClient(c);
  let failed = false;
  try {
    return await fn(c);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    guard.release(failed);
  }
}
