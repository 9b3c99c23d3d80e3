/**
 * @module test/helpers/sink
 * A next-hop SMTP server for tests (smtp-server on 127.0.0.1) that records every message it is
 * given: envelope and raw bytes. Stands in for the mailbox server at the end of a route. With a
 * certificate it offers STARTTLS (and records whether each message came over TLS); with `knownRcpts`
 * it answers 550 5.1.1 for any other recipient, as a mailbox server does.
 * Touches: a loopback listening socket.
 */
import { SMTPServer } from 'smtp-server';

export interface SunkMessage {
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
}

export interface SinkOptions {
  /** PEM key and certificate: STARTTLS is offered with them. */
  tls?: { key: string; cert: string };
  /** Recipients that exist (lower case); others get 550 5.1.1. Undefined = everyone exists. */
  knownRcpts?: readonly string[];
}

export interface Sink {
  port: number;
  messages: SunkMessage[];
  /** RCPT TO addresses seen, accepted or not, in order. */
  rcpts: string[];
  close(): Promise<void>;
}

/** Start a sink on `port` (0 = any). */
export async function startSink(port = 0, opts: SinkOptions = {}): Promise<Sink> {
  const messages: SunkMessage[] = [];
  const rcpts: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: opts.tls ? ['AUTH'] : ['STARTTLS', 'AUTH'],
    ...(opts.tls ?? {}),
    disableReverseLookup: true,
    logger: false,
    onRcptTo(addr, _session, cb) {
      rcpts.push(addr.address);
      if (opts.knownRcpts && !opts.knownRcpts.includes(addr.address.toLowerCase())) {
        return cb(Object.assign(new Error('5.1.1 <' + addr.address + '>: Recipient address rejected: User unknown'), { responseCode: 550 }));
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('latin1'),
          secure: session.secure,
        });
        cb();
      });
    },
  });
  // A client that vanishes mid-session (a gateway killed with -9) resets its connection: smtp-server
  // reports that as an 'error' event, which a mail server logs and goes on from; so does this sink.
  server.on('error', () => undefined);
  await new Promise<void>((res, rej) => {
    server.server.once('error', rej);
    server.listen(port, '127.0.0.1', () => res());
  });
  const a = server.server.address();
  return {
    port: typeof a === 'object' && a ? a.port : port,
    messages,
    rcpts,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}
