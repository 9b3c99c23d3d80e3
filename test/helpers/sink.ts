/**
 * @module test/helpers/sink
 * A next-hop SMTP server for tests (smtp-server on 127.0.0.1) that records every message it is
 * given: envelope and raw bytes. Stands in for the mailbox server at the end of a route.
 * Touches: a loopback listening socket.
 */
import { SMTPServer } from 'smtp-server';

export interface SunkMessage {
  from: string;
  to: string[];
  raw: string;
}

export interface Sink {
  port: number;
  messages: SunkMessage[];
  close(): Promise<void>;
}

/** Start a sink on `port` (0 = any). */
export async function startSink(port = 0): Promise<Sink> {
  const messages: SunkMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('latin1'),
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
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}
