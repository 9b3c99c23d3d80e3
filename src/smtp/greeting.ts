/**
 * @module smtp/greeting
 * smtp-server 3.x waits a hard-coded 100 ms after accept() before sending the 220 banner, to catch
 * clients that talk before the greeting (early-talker detection, like Postfix postscreen's greet
 * pause). No option turns it off, and it caps every new connection at one banner per 100 ms of
 * wall time (bench-peers measured 181 → 1,238 msg/s without it). This makes the pause a
 * per-listener setting (`greetingDelayMs`, default 0 — Postfix's smtpd has none either; set it
 * on an internet-facing MX that wants early-talker detection).
 * It replaces `init` on each connection object of one server (never the shared prototype) with the
 * library's own steps: set the socket listeners, enforce maxClients, then `connectionReady`,
 * after the configured pause. Early talkers during the pause still get smtp-server's own
 * "421 You talk too soon", since `_ready` stays false until the banner.
 * Pinned to smtp-server 3.21.6 (package.json); the greeting test would catch a change.
 * Touches: nothing beyond the server object it is given.
 */
import type { SMTPServer } from 'smtp-server';

/** The private parts of smtp-server's SMTPConnection this relies on (3.21.6). */
interface ConnectionInternals {
  init(): void;
  _setListeners(cb: () => void): void;
  connectionReady(): void;
  send(code: number, text: string, context: false): void;
  name: string;
  _server: { options: { maxClients?: number }; connections: Set<unknown> };
}

/** Make new connections of `server` greet after `delayMs` (0 = at once). */
export function setGreetingDelay(server: SMTPServer, delayMs: number): void {
  // connect() adds each new connection to this Set right before calling init() on it.
  const internals = server as unknown as { connections: Set<ConnectionInternals> };
  const original = internals.connections;
  const patched = new (class extends Set<ConnectionInternals> {
    override add(conn: ConnectionInternals): this {
      conn.init = function init(this: ConnectionInternals): void {
        this._setListeners(() => {
          const max = this._server.options.maxClients;
          if (max && this._server.connections.size > max) {
            this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
            return;
          }
          if (delayMs <= 0) this.connectionReady();
          else setTimeout(() => this.connectionReady(), delayMs).unref();
        });
      };
      return super.add(conn);
    }
  })(original);
  internals.connections = patched;
}
