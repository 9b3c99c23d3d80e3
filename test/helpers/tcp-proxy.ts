/**
 * @module test/helpers/tcp-proxy
 * A TCP forwarder on loopback that a test can cut and restore, to take a real server (PostgreSQL)
 * away from one process without stopping it for anyone else: `cut()` closes every forwarded
 * connection and stops listening (new connections are refused); `restore()` listens again on the
 * same port. `freeze()` stops forwarding without closing anything (a partition: no FIN, no RST).
 * Touches: one loopback port; connections to the target.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  freeze(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let frozen = false;
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const make = (): net.Server =>
    net.createServer((client) => {
      const upstream = net.connect(target);
      track(client);
      track(upstream);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      pairs.add(pair);
      client.once('close', () => pairs.delete(pair));
      if (!frozen) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
  const listen = (srv: net.Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
    });
  let server: net.Server | undefined = make();
  const port = await listen(server, 0);
  const cut = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  return {
    port,
    cut,
    freeze() {
      frozen = true;
      for (const [a, b] of pairs) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
      }
    },
    async restore() {
      frozen = false;
      for (const [a, b] of pairs) {
        a.pipe(b);
        b.pipe(a);
      }
      if (server) return;
      server = make();
      await listen(server, port);
    },
    close: cut,
  };
}
