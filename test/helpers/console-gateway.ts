/**
 * A real `mailgate serve` for the console's browser tests: the example configuration with an mx
 * listener, the admin listener (the console at `url`), every domain routed to a loopback sink,
 * and whatever `over` adds (transport rules…); an admin token made by `mailgate token add`; and
 * `send()` speaking SMTP to the mx listener from 127.0.0.1 (so mail from the accepted domain
 * example.com with no connector is Direct Send). `waitConfig` waits (bounded) until the gateway
 * runs a configuration version at least `v`, read from the health route.
 * Touches: a temp data dir, loopback ports, the gateway process it starts (stopped by PID).
 */
import type { ConfigInput } from '../../src/config/index.ts';
import { applyConfig, baseConfig, cli, freePort, mxListenerOf, nextHopRoute, removeDir, startGateway, tempDir, type Gateway } from './gateway.ts';
import { startSink, type Sink } from './sink.ts';
import { SmtpTestClient, message } from './smtp-client.ts';

export interface ConsoleGateway {
  dir: string;
  url: string;
  mxPort: number;
  sink: Sink;
  gw: Gateway;
  /** An admin token's secret (name "browser"). */
  token: string;
  /** Send one message; returns the end-of-data reply line (or the first refusal). */
  send(opts: { from?: string; to?: string; subject: string; helo?: string; body?: string }): Promise<string>;
  waitConfig(v: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `webDir`: the built console (test/helpers/browser.ts buildConsole), served through MAILGATE_WEB_DIR. */
export async function startConsoleGateway(over: Partial<ConfigInput> = {}, opts: { webDir?: string } = {}): Promise<ConsoleGateway> {
  const dir = tempDir('mailgate-console-');
  const sink = await startSink();
  try {
    const mxPort = await freePort();
    const admin = await freePort();
    const base = baseConfig({ mx: mxPort, submission: mxPort, admin });
    applyConfig(dir, { ...base, receiveConnectors: [{ ...mxListenerOf(base), port: mxPort, tls: { mode: 'none' } }], routes: [nextHopRoute(sink.port)], ...over });
    const t = cli(dir, ['token', 'add', 'browser', '--scope', 'admin']);
    if (t.code !== 0) throw new Error(`token add: ${t.stderr}`);
    const token = t.stdout.trim();
    const gw = await startGateway(dir, [mxPort, admin], opts.webDir ? { env: { MAILGATE_WEB_DIR: opts.webDir } } : {});
    const url = `http://127.0.0.1:${admin}/`;
    return {
      dir,
      url,
      mxPort,
      sink,
      gw,
      token,
      async send(o) {
        const c = await SmtpTestClient.connect({ port: mxPort });
        try {
          await c.cmd(`EHLO ${o.helo ?? 'printer.example.com'}`);
          const from = o.from ?? 'scanner@example.com';
          const to = o.to ?? 'alice@example.com';
          const r = await c.sendMail(from, [to], message({ from, to, subject: o.subject, ...(o.body !== undefined ? { body: o.body } : {}) }));
          const last = r.eod ?? r.data ?? r.rcpts.find((x) => x.code !== 250) ?? r.mail;
          return last.text;
        } finally {
          await c.quit();
        }
      },
      async waitConfig(v, timeoutMs = 30_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const r = await fetch(`${url}api/v1/health`).then((x) => x.json() as Promise<{ configVersion: number }>, () => ({ configVersion: 0 }));
          if (r.configVersion >= v) return;
          if (Date.now() > until) throw new Error(`the gateway still runs configuration ${r.configVersion} after ${timeoutMs} ms (waiting for ${v})`);
          await new Promise((res) => setTimeout(res, 100));
        }
      },
      async stop() {
        await gw.stop();
        await sink.close();
        removeDir(dir);
      },
    };
  } catch (err) {
    await sink.close();
    removeDir(dir);
    throw err;
  }
}
