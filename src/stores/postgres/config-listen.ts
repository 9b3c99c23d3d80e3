/**
 * @module stores/postgres/config-listen
 * One node's LISTEN connection for configuration changes: a dedicated client (a pooled one would
 * be handed to other queries), `LISTEN mailgate_config`, notifications for this schema passed on
 * as version numbers. When the connection drops it reports the store down once and reconnects
 * every `retryMs`; back up, it reports up so the watch polls and catches up on what it missed.
 * A ping every `retryMs * 5` finds a connection that died without a word (a half-open TCP path
 * after a network cut), which would otherwise wait for notifications that never come.
 * Touches: one PostgreSQL connection.
 */
import pg from 'pg';
import type { ConfigListen, ConfigListenHandlers } from '../../config/store.ts';
import { checkIdentifier } from './pool.ts';

export const CONFIG_CHANNEL = 'mailgate_config';

/** Listen for new versions of `schema`'s configuration until `stop()`. Resolves once the first attempt ends (up or down). */
export async function listenConfig(url: string, schema: string, h: ConfigListenHandlers, retryMs = 1000): Promise<ConfigListen> {
  const pingMs = retryMs * 5;
  checkIdentifier(schema);
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let up: boolean | undefined;

  const state = (next: boolean, error?: unknown): void => {
    if (up === next) return;
    up = next;
    h.onState(next, error);
  };

  const retry = (error: unknown): void => {
    client = undefined;
    if (stopped) return;
    state(false, error);
    timer ??= setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url, application_name: 'mailgate-listen', connectionTimeoutMillis: 5000, query_timeout: pingMs, keepAlive: true });
    let ping: NodeJS.Timeout | undefined;
    let failed = false;
    const fail = (e: unknown): void => {
      if (failed) return;
      failed = true;
      clearInterval(ping);
      c.end().catch(() => {});
      retry(e);
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error('the LISTEN connection closed')));
    c.on('notification', (n) => {
      const [s, v] = (n.payload ?? '').split(':');
      if (n.channel === CONFIG_CHANNEL && s === schema && v && /^\d+$/.test(v)) h.onVersion(Number(v));
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CONFIG_CHANNEL}`);
    } catch (e) {
      fail(e);
      return;
    }
    if (stopped) {
      failed = true;
      await c.end().catch(() => {});
      return;
    }
    client = c;
    ping = setInterval(() => void c.query('SELECT 1').catch(fail), pingMs);
    ping.unref();
    state(true);
  };

  await connect();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      // Bounded: on a dead path end() could wait for the TCP timeout; the process must stop now.
      if (c) await Promise.race([c.end().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
