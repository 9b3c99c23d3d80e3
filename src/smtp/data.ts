/**
 * @module smtp/data
 * The end of DATA: streams the message through the data guard (bare LF/CR, line and size limits,
 * stripping forged X-Mailgate-* headers) into a spool file, runs the eod policy stage (header
 * From), and answers 250 only after queue.accept() has made the file durable (and committed its
 * row, except in a receive worker, whose registration goes to the queue owner in the background).
 * Any violation or error drains the rest of the DATA so the session stays in step, discards the
 * spool file, and answers from the reply table; an error in the queue answers 451 4.3.0.
 * Touches: the spool (through the injected acceptor), the trace sink.
 * RFCs: 5321 §4.1.1.4 (DATA), §4.5.3.1 (limits); 3030-free (no CHUNKING offered).
 */
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { DataGuard } from './data-guard.ts';
import { countReceived, tooManyHops } from './hop-count.ts';
import { prependHeaders } from './headers.ts';
import { fromFacts } from './from-fields.ts';
import { authColumns, authSummary, startAuth, stripPredicate } from './auth-run.ts';
import { startBodyScan, type BodyScan } from './rule-scan.ts';
import { queueRuleReports } from './rule-reports.ts';
import { recipientsAfter, ruleEvents, ruleMessageFacts, ruleReasons, runRules } from './rules-run.ts';
import type { AuthFacts } from '../auth/index.ts';
import { SmtpReplyError, type ReplyKey } from './replies.ts';
import { policyInput, type ConnState, type TxState } from './session.ts';
import { listenerSettings, type SpoolSink } from './deps.ts';
import { attributionColumns, sessionColumns, traceRefusedTransaction } from './trace-rows.ts';
import type { StageHandlers } from './handlers.ts';
import type { MessageMeta } from '../queue/contract.ts';
import type { QuarantineReason } from '../queue/quarantine-reason.ts';
import type { TraceEvent, TraceMessage } from '../trace/events.ts';
import type { Attribution } from '../policy/types.ts';

type DataCb = (err?: Error | null, message?: string) => void;

const VIOLATION_KEYS: Record<string, ReplyKey> = {
  'bare-lf': 'bare-lf',
  'bare-cr': 'bare-cr',
  nul: 'nul-byte',
  'line-too-long': 'line-too-long',
  size: 'message-too-big',
  'headers-too-large': 'headers-too-large',
};

/** Receive one message: returns when the reply has been given. */
export function onData(h: StageHandlers, stream: SMTPServerDataStream, session: SMTPServerSession, reply: DataCb): void {
  let replied = false;
  const cb: DataCb = (err, message) => {
    if (replied) return; // one reply per DATA, whatever path gets there first
    replied = true;
    reply(err, message);
  };
  const c = h.sessions.get(session);
  const tx = c?.tx;
  if (!c || !tx) {
    stream.resume();
    stream.once('end', () => cb(new SmtpReplyError('policy-error')));
    return;
  }
  const settings = listenerSettings(h.deps, h.listener);
  const guard = new DataGuard({ maxSize: settings.maxMessageSize, maxLineLength: settings.maxLineLength, stripHeaders: stripPredicate(h.deps) });
  const hops: Extra = { received: 0, block: undefined, scan: undefined };
  guard.once('headers', (block: Buffer) => {
    hops.received = countReceived(block);
    hops.block = block;
  });
  let writer: SpoolSink | undefined;
  let writeError: Error | undefined;
  try {
    writer = h.deps.acceptor.begin(tx.id);
  } catch (err) {
    writeError = err as Error;
  }
  let pending = writer ? 2 : 1;
  const done = (): void => {
    pending -= 1;
    if (pending !== 0) return;
    finish(h, c, tx, stream, guard, writer, writeError, auth, settings.maxMessageSize, settings.maxLineLength, hops, cb).catch((err: unknown) => {
      // Fail closed: an unexpected error after DATA never becomes an accept (convention 3).
      h.deps.logger.error({ err, id: tx.id }, 'end of DATA failed');
      void writer?.abort().catch(() => undefined);
      c.tx = undefined;
      cb(new SmtpReplyError('queue-error', undefined, tx.id, h.deps.hostname));
    });
  };
  if (writer) {
    const w = writer;
    w.once('error', (err: Error) => {
      writeError = err;
      guard.unpipe(w);
      guard.resume();
      done();
    });
    w.once('finish', done);
    guard.pipe(w);
  } else {
    guard.resume();
  }
  const auth = writer ? startAuth(h.deps, c, tx, guard) : undefined;
  // The body is scanned only when an enabled transport rule reads it (smtp/rule-scan).
  if (writer && h.deps.snapshot().policy.rules.needsBody) hops.scan = startBodyScan(guard);
  stream.once('error', (err: Error) => {
    writeError = err;
  });
  // The client went away in the middle of the message (smtp-server destroys the stream, which
  // never ends): nothing will be answered, so discard what was written — a message past the
  // spool's memory threshold already has a file and a descriptor open.
  stream.once('close', () => {
    if (stream.readableEnded) return;
    guard.destroy();
    void writer?.abort().catch(() => undefined);
  });
  stream.pipe(guard);
  stream.once('end', done);
}

/** What the end of DATA learned while the message streamed: hop count, header block, body scan. */
interface Extra {
  received: number;
  block: Buffer | undefined;
  scan: Promise<BodyScan> | undefined;
}

async function finish(
  h: StageHandlers,
  c: ConnState,
  tx: TxState,
  stream: SMTPServerDataStream,
  guard: DataGuard,
  writer: SpoolSink | undefined,
  writeError: Error | undefined,
  auth: Promise<AuthFacts> | undefined,
  maxSize: number,
  maxLine: number,
  extra: Extra,
  cb: DataCb,
): Promise<void> {
  const received = extra.received;
  const r = guard.result();
  const violation = stream.sizeExceeded ? 'size' : r.violation;
  let facts: AuthFacts | undefined;
  const refuse = async (key: ReplyKey, vars: Record<string, string>, attribution: Attribution | undefined, reasons: string[]): Promise<void> => {
    if (writer) await writer.abort().catch(() => undefined);
    const err = h.refuse(c, key, vars);
    const line = `${err.responseCode} ${err.message}`;
    traceRefusedTransaction(h.deps, c, tx, line, attribution, reasons, undefined, { headerFrom: r.headerFrom, subject: r.subject, size: r.bytesIn, messageId: r.messageId, ...authColumns(facts) });
    c.tx = undefined;
    cb(err);
  };
  if (violation) return refuse(VIOLATION_KEYS[violation] ?? 'bare-lf', { limit: String(violation === 'line-too-long' ? maxLine : maxSize) }, tx.attribution, [`data:${violation}`]);
  if (writeError || !writer) {
    h.deps.logger.error({ err: writeError, id: tx.id }, 'spool write failed');
    return refuse('queue-error', {}, tx.attribution, ['queue:write-error']);
  }
  const hopLimit = h.deps.snapshot().config.organization.hopCountLimit;
  if (tooManyHops(received, hopLimit)) return refuse('too-many-hops', { count: String(received), limit: String(hopLimit) }, tx.attribution, ['data:hop-count']);
  // auth/ never throws by contract; should it, the message is judged without results.
  facts = auth ? await auth.catch(() => undefined) : undefined;
  const v = h.decide('eod', policyInput(c, { headerFrom: r.headerFrom, ...fromFacts(r.headerFroms), auth: facts ? authSummary(facts, tx.id) : undefined }));
  if (v === 'error') return refuse('policy-error', {}, tx.attribution, ['policy:error']);
  if (v.action === 'reject' || v.action === 'tempfail') return refuse(v.reply, { ip: c.clientIp, ...v.vars }, v.attribution ?? tx.attribution, v.reasons);
  const attribution: Attribution = v.attribution ?? tx.attribution ?? { kind: 'anonymous-external' };
  const now = h.deps.now();
  const body = extra.scan ? await extra.scan : undefined;
  const facts0 = { mailFrom: tx.mailFrom, headerFrom: r.headerFrom, recipients: tx.rcpts, clientIp: c.clientIp, attribution, subject: r.subject, size: r.bytesIn, headerBlock: extra.block, body, auth: facts, now };
  const rules = runRules(h.deps.snapshot().policy, facts0);
  if (rules && h.deps.metrics) for (const hit of rules.hits) h.deps.metrics.hit(hit.rule, hit.mode);
  const reasons = [...v.reasons, ...ruleReasons(rules)];
  const ruleEvs = rules ? ruleEvents(tx.id, now, rules, tx.rcpts) : [];
  const rejected = rules?.effect.reject;
  const reportFacts = { queueId: tx.id, hostname: h.deps.hostname, mailFrom: tx.mailFrom, recipients: tx.rcpts, clientIp: c.clientIp, attribution, subject: r.subject, messageId: r.messageId, headerBlock: extra.block, now };
  // Incident reports go out whatever the rule did (refused, deleted, held, delivered; Exchange sends them in every mode).
  if (rules && (rules.effect.incidentReports.length || rules.effect.notify.length)) queueRuleReports(h.deps, rules, reportFacts);
  if (rejected) {
    for (const e of ruleEvs) h.deps.trace.event(e);
    return refuse('rule-reject', { enhanced: rejected.enhanced, text: rejected.text }, attribution, reasons);
  }
  const ruleQuarantine = rules?.effect.quarantine;
  const quarantined = v.action === 'quarantine' || ruleQuarantine !== undefined;
  const rcptTo = recipientsAfter(tx.rcpts, rules);
  const meta: MessageMeta = {
    id: tx.id,
    receivedAt: now,
    envelope: { mailFrom: tx.mailFrom, rcptTo },
    size: r.bytesOut,
    prependHeaders: prependHeaders(
      { helo: c.helo, clientIp: c.clientIp, hostname: h.deps.hostname, id: tx.id, tls: c.tls, tlsVersion: c.tlsVersion, tlsCipher: c.tlsCipher, authUser: c.authUser, rcpts: tx.rcpts, at: now },
      attribution,
      facts?.authResultsHeader ?? '',
    ),
    // A rule's quarantine reason (in ruleMessageFacts) wins over DMARC's: the rule ran last.
    facts: {
      hops: received + 1, attribution, listener: c.listener, clientIp: c.clientIp, helo: c.helo, tls: c.tls, authUser: c.authUser, headerFrom: r.headerFrom, subject: r.subject, quarantined,
      quarantine: v.action === 'quarantine' ? dmarcQuarantine(v.vars?.domain) : undefined,
      ...ruleMessageFacts(rules),
    },
  };
  const row: TraceMessage = {
    ...sessionColumns(c),
    ...attributionColumns(attribution),
    id: tx.id,
    receivedAt: tx.startedAt,
    mailFrom: tx.mailFrom,
    headerFrom: r.headerFrom,
    recipients: rcptTo,
    subject: r.subject,
    size: r.bytesIn,
    messageId: r.messageId,
    status: rules?.effect.delete ? 'Failed' : quarantined ? 'Quarantined' : 'Pending',
    ...authColumns(facts),
    reply: undefined,
    reasons,
  };
  try {
    const at = h.deps.now();
    const events: TraceEvent[] = [{ messageId: tx.id, at, event: 'RECEIVE', detail: `${tx.rcpts.length} recipient(s), ${r.bytesIn} bytes` }, ...ruleEvs];
    if (rules?.effect.delete) return await dropDeleted(h, c, tx, writer, row, events, rules.effect.delete.rule, cb);
    if (quarantined) events.push({ messageId: tx.id, at, event: 'QUARANTINE', detail: ruleQuarantine ? `rule ${ruleQuarantine.rule}` : v.reasons.join(',') });
    const id = await h.deps.acceptor.accept(writer, meta, quarantined ? 'hold' : 'deliver', row, events);
    c.tx = undefined;
    c.transactions += 1;
    cb(null, h.queuedReply(id));
  } catch (err) {
    h.deps.logger.error({ err, id: tx.id }, 'queue accept failed');
    await refuse('queue-error', {}, attribution, ['queue:accept-error']);
  }
}

/**
 * A transport rule's deleteMessage: the client is told 250 (Exchange drops silently, no NDR), the
 * spool file is discarded, and the trace keeps the row (status Failed) with its RULE events and a
 * FAIL saying which rule dropped it.
 */
async function dropDeleted(h: StageHandlers, c: ConnState, tx: TxState, writer: SpoolSink, row: TraceMessage, events: TraceEvent[], rule: string, cb: DataCb): Promise<void> {
  await writer.abort().catch(() => undefined);
  h.deps.trace.message(row);
  for (const e of events) h.deps.trace.event(e);
  h.deps.trace.event({ messageId: tx.id, at: h.deps.now(), event: 'FAIL', detail: `deleted by transport rule ${rule} (accepted, not delivered, no NDR)` });
  c.tx = undefined;
  c.transactions += 1;
  cb(null, h.queuedReply(tx.id));
}

/** Why a message the DMARC branch accepted into hold is there (queue/quarantine-reason.ts). */
function dmarcQuarantine(domain: string | undefined): QuarantineReason {
  return { kind: 'dmarc', text: `DMARC p=quarantine of ${domain ?? 'the From domain'}` };
}
