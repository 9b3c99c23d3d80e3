/**
 * @module bench/relay-ceiling
 * A ceiling for the harness (target `smtp-relay` of bench/run.sh): the two libraries mailgate is
 * built on doing only what any relay must do. smtp-server (mailgate's version, banner delay off
 * with mailgate's own setGreetingDelay) accepts RCPT for example.com, reads DATA and answers 250
 * at once; the message is then sent to the next hop through a nodemailer SMTP pool, the way
 * mailgate's queue owner sends it (raw bytes and an explicit envelope straight to the pool
 * transport, 5 connections, 1,000 messages per session: src/deliver/smtp.ts). Nothing is written
 * to disk, no policy, no trace: not a gateway, a reference point for one. With --fsync DIR (target
 * `smtp-relay-fsync`) each message is first written to a new file in DIR and fsynced, then 250:
 * the straightforward durable relay on these libraries (the files are never deleted). With
 * --journal DIR (target `smtp-relay-journal`) each message is appended to a per-process journal
 * and the 250 waits for a flush shared by every message appended before it began (group commit,
 * class Journal below). Messages the next hop refuses are counted and logged, and the process
 * exits 1 at shutdown if there were any.
 * usage: node --import tsx bench/relay-ceiling.ts --port 2611 --next-hop 2600 (bench/run.sh runs it
 * in as many cluster workers as mailgate has receive workers: in-cluster.ts)
 * Touches: listens on 127.0.0.1:PORT, connects to 127.0.0.1:NEXT_HOP. Stops on SIGTERM/SIGINT.
 */
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { rawMail, type RawTransporter } from '../src/deliver/smtp.ts';
import { setGreetingDelay } from '../src/smtp/greeting.ts';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '2611' }, 'next-hop': { type: 'string', default: '2600' }, fsync: { type: 'string' }, journal: { type: 'string' } },
});
const port = Number(values.port);
/** --fsync DIR: write each message to a new file in DIR and fsync it before the 250 (never deleted). */
const spoolDir = values.fsync;
if (spoolDir) mkdirSync(spoolDir, { recursive: true });
let seq = 0;

/**
 * --journal DIR: group commit, as a database's log does. Each process appends every message to one
 * journal file, written full of zeros at start (so a flush writes data blocks only, no size or
 * extent change), used as a ring; one fdatasync covers every message appended before it started,
 * and a message's 250 waits for the first flush that began after its write.
 */
class Journal {
  private readonly fd: number;
  private pos = 0;
  private flushing = false;
  /** Appended, waiting for a flush that has not started yet. */
  private waiting: Array<(err: Error | null) => void> = [];
  flushes = 0;
  constructor(
    dir: string,
    private readonly size = 128 * 1024 * 1024,
  ) {
    mkdirSync(dir, { recursive: true });
    this.fd = openSync(join(dir, `journal.${process.pid}`), 'w+', 0o600);
    const zeros = Buffer.alloc(1024 * 1024);
    for (let off = 0; off < size; off += zeros.length) writeSync(this.fd, zeros, 0, zeros.length, off);
    fdatasyncSync(this.fd);
  }
  append(raw: Buffer): Promise<void> {
    if (this.pos + raw.length > this.size) this.pos = 0;
    writeSync(this.fd, raw, 0, raw.length, this.pos);
    this.pos += raw.length;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push((err) => (err ? reject(err) : resolve()));
      if (!this.flushing) this.flush();
    });
  }
  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.flushing = true;
    this.flushes++;
    fdatasync(this.fd, (err) => {
      this.flushing = false;
      for (const done of batch) done(err);
      if (this.waiting.length > 0) this.flush();
    });
  }
}
const journal = values.journal ? new Journal(values.journal) : undefined;

/** As mailgate's spool writes a held message: create, write and close on the event loop, only the flush off it. */
async function persist(raw: Buffer): Promise<void> {
  if (journal) return journal.append(raw);
  if (!spoolDir) return;
  const fd = openSync(join(spoolDir, `${process.pid}.${++seq}`), 'wx', 0o600);
  try {
    writeSync(fd, raw, 0, raw.length, 0);
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    closeSync(fd);
  }
}

const pool = createTransport({ pool: true, maxConnections: 5, maxMessages: 1000, maxRequeues: 0, host: '127.0.0.1', port: Number(values['next-hop']), secure: false, ignoreTLS: true, logger: false });
/** The part of nodemailer's pool transport mailgate calls, with mailgate's own message shape (src/deliver/smtp.ts). */
const transporter = pool.transporter as unknown as RawTransporter;

let relayed = 0;
let refused = 0;
function relay(from: string, to: string[], raw: Buffer): void {
  transporter.send(rawMail({ from, to }, Readable.from([raw])), (err) => {
    if (!err) return void relayed++;
    if (refused++ === 0) console.error(`next hop refused a message: ${err.message}`);
  });
}

const server = new SMTPServer({
  name: 'relay-ceiling.bench.invalid',
  banner: 'relay-ceiling',
  logger: false,
  disabledCommands: ['AUTH', 'STARTTLS'],
  size: 25 * 1024 * 1024,
  onRcptTo(address, _session, cb) {
    if (/@example\.com$/i.test(address.address)) return cb();
    cb(Object.assign(new Error('5.7.1 relay not permitted'), { responseCode: 550 }));
  },
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      // Read the envelope before the 250: smtp-server resets it for the next transaction.
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const to = session.envelope.rcptTo.map((r) => r.address);
      const raw = Buffer.concat(chunks);
      persist(raw).then(
        () => {
          cb(null, 'queued');
          relay(from, to, raw);
        },
        (err: unknown) => cb(Object.assign(new Error(`4.3.0 ${String(err)}`), { responseCode: 451 })),
      );
    });
  },
});
setGreetingDelay(server, 0);
server.on('error', (err) => console.error(`server error: ${err.message}`));
server.listen(port, '127.0.0.1', () => console.log(`relay-ceiling on 127.0.0.1:${port}`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    server.close(() => {
      pool.close();
      console.log(`relayed ${relayed}, refused ${refused}${journal ? `, ${journal.flushes} journal flushes` : ''}`);
      process.exit(refused > 0 ? 1 : 0);
    });
  });
}
