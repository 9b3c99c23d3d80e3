/**
 * @module test/helpers/smtp-client
 * A small scripted SMTP client over a raw socket, for tests that must send exactly the bytes a
 * hostile or broken client would (bare LF, pipelined commands after STARTTLS, over-long lines),
 * from a chosen loopback source address (127.0.0.x). Replies are parsed per RFC 5321 §4.2
 * (multi-line with "-", last line with a space).
 * Touches: loopback sockets only.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  lines: string[];
  /** All lines joined with "\n" (codes included). */
  text: string;
}

export interface ConnectOptions {
  port: number;
  host?: string;
  localAddress?: string;
  implicitTls?: boolean;
  cert?: string;
  key?: string;
  timeoutMs?: number;
}

export class SmtpTestClient {
  private buf = '';
  private waiters: Array<(r: Reply) => void> = [];
  private replies: Reply[] = [];
  private closed = false;
  greeting!: Reply;
  constructor(private sock: net.Socket | tls.TLSSocket, private readonly timeoutMs: number) {
    this.attach(sock);
  }

  static async connect(o: ConnectOptions): Promise<SmtpTestClient> {
    const host = o.host ?? '127.0.0.1';
    const plain = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ port: o.port, host, localAddress: o.localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    const sock = !o.implicitTls
      ? plain
      : await new Promise<tls.TLSSocket>((resolve, reject) => {
          const s = tls.connect({ socket: plain, rejectUnauthorized: false, cert: o.cert, key: o.key, servername: 'localhost' }, () => resolve(s));
          s.once('error', reject);
        });
    const c = new SmtpTestClient(sock, o.timeoutMs ?? 10_000);
    c.greeting = await c.reply();
    return c;
  }

  private attach(sock: net.Socket | tls.TLSSocket): void {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => this.onData(d));
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w({ code: 0, lines: [], text: '(connection closed)' });
    });
    sock.on('error', () => undefined);
  }

  private onData(d: string): void {
    this.buf += d;
    let lines: string[] = [];
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) break;
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const r: Reply = { code: Number(line.slice(0, 3)), lines, text: lines.join('\n') };
        lines = [];
        const w = this.waiters.shift();
        if (w) w(r);
        else this.replies.push(r);
      }
    }
    if (lines.length) this.buf = lines.map((l) => l + '\r\n').join('') + this.buf;
  }

  /** The next reply (already received or still to come). */
  reply(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: 0, lines: [], text: '(connection closed)' });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no SMTP reply within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.waiters.push((x) => {
        clearTimeout(t);
        resolve(x);
      });
    });
  }

  /** Write raw bytes. */
  write(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Send a command line and read its reply. */
  async cmd(line: string): Promise<Reply> {
    this.write(line + '\r\n');
    return this.reply();
  }

  /** STARTTLS and upgrade; returns the 220 reply. */
  async starttls(opts: { cert?: string; key?: string } = {}): Promise<Reply> {
    const r = await this.cmd('STARTTLS');
    if (r.code !== 220) return r;
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('close');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: this.sock, rejectUnauthorized: false, cert: opts.cert, key: opts.key, servername: 'localhost' }, () => resolve(s));
      s.once('error', reject);
    });
    this.sock = secure;
    this.attach(secure);
    return r;
  }

  get tlsSocket(): tls.TLSSocket | undefined {
    return this.sock instanceof tls.TLSSocket ? this.sock : undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A whole transaction; returns the replies of each step, stopping at the first failure. */
  async sendMail(from: string, to: string[], data: string): Promise<{ mail: Reply; rcpts: Reply[]; data?: Reply; eod?: Reply }> {
    const mail = await this.cmd(`MAIL FROM:<${from}>`);
    const rcpts: Reply[] = [];
    if (mail.code !== 250) return { mail, rcpts };
    for (const r of to) rcpts.push(await this.cmd(`RCPT TO:<${r}>`));
    if (!rcpts.some((r) => r.code === 250)) return { mail, rcpts };
    const dataReply = await this.cmd('DATA');
    if (dataReply.code !== 354) return { mail, rcpts, data: dataReply };
    this.write(data.endsWith('\r\n') ? data + '.\r\n' : data + '\r\n.\r\n');
    return { mail, rcpts, data: dataReply, eod: await this.reply() };
  }

  /** Drop the connection without a word (a client that goes away mid-session). */
  destroy(): void {
    this.sock.destroy();
  }

  async quit(): Promise<void> {
    if (!this.closed) {
      this.write('QUIT\r\n');
      await this.reply().catch(() => undefined);
    }
    this.sock.destroy();
  }
}

/** A minimal RFC 5322 message with CRLF line ends. */
export function message(opts: { from: string; to: string; subject?: string; body?: string; extraHeaders?: string[] }): string {
  const h = [
    `From: <${opts.from}>`,
    `To: <${opts.to}>`,
    `Subject: ${opts.subject ?? 'test'}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@test>`,
    `Date: ${new Date().toUTCString()}`,
    ...(opts.extraHeaders ?? []),
  ];
  return h.join('\r\n') + '\r\n\r\n' + (opts.body ?? 'hello').replace(/\r?\n/g, '\r\n') + '\r\n';
}
