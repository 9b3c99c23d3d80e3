/**
 * @module smtp/auth-run
 * Runs SPF/DKIM/DMARC/ARC (auth/, injected) over a message while it is being spooled: an unsigned
 * message is evaluated from its header block as soon as that has arrived; a signed one has the data
 * guard's output teed to the spool file and to the evaluator, so the message is read once and
 * never held whole in memory. Authenticated submission is not evaluated (it is not anonymous mail).
 * The evaluator never throws; if it stops reading early, the tee is drained so DATA never stalls.
 * Touches: nothing beyond the streams it is given.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { AuthFacts } from '../auth/index.ts';
import { isOurAuthResults } from '../auth/index.ts';
import { acceptedDomainOf } from '../policy/index.ts';
import type { AuthSummary } from '../policy/types.ts';
import type { TraceMessage } from '../trace/events.ts';
import type { ConnState, TxState } from './session.ts';
import type { SmtpDeps } from './deps.ts';
import type { DataGuard } from './data-guard.ts';
import { strippedHeaderPredicate } from './headers.ts';

/** The authserv-id of our Authentication-Results: organization.authservId, else the host name. */
export function authservId(deps: SmtpDeps): string {
  return deps.snapshot().config.organization.authservId || deps.hostname;
}

/** The header-stripping predicate for the data guard (X-Mailgate-*, our own A-R). */
export function stripPredicate(deps: SmtpDeps): (name: string, line: string) => boolean {
  return strippedHeaderPredicate(authservId(deps), isOurAuthResults);
}

/** Whether this session's mail is evaluated: auth on, an evaluator given, and not authenticated submission. */
function evaluated(deps: SmtpDeps, c: ConnState): boolean {
  return deps.authenticate !== undefined && !c.authUser && deps.snapshot().config.authentication.enabled;
}

/**
 * Start SPF for the transaction once (at its first accepted recipient, so DNS and evaluation run
 * while the client sends DATA; a transaction refused at RCPT costs no lookup).
 */
export function startSpf(deps: SmtpDeps, c: ConnState, tx: TxState): void {
  if (tx.spf || !deps.checkSpf || !evaluated(deps, c)) return;
  const mta = authservId(deps);
  const outcome = deps.checkSpf({ clientIp: c.clientIp, helo: c.helo, mailFrom: tx.mailFrom, mta });
  // A checker never rejects by contract; should one, authenticate() reports temperror, and a
  // transaction abandoned before DATA must not leave an unhandled rejection behind.
  outcome.catch(() => undefined);
  tx.spf = { mta, outcome };
}

/**
 * A header block that may carry a DKIM signature or an ARC set: one of those field names anywhere
 * in it, whatever precedes it (mailauth trims field names with String.trim(), which also drops
 * \v, \f and NBSP; a false positive only costs the full evaluation).
 */
const SIGNATURE_NAME = /dkim-signature|arc-(?:seal|message-signature|authentication-results)/i;

/**
 * Start evaluating the guard's output; undefined when auth is off or the user authenticated.
 * Once the guard has emitted the header block: a message without any DKIM-Signature or ARC header
 * is evaluated from its header block alone (mailauth reads the body only to hash it for a
 * signature, so with none the facts are the same and the body is never scanned), and the
 * evaluation starts there, before the rest of DATA arrives; a message with one gets the header
 * block and the rest of the stream teed to the evaluator. A message that opens with the empty
 * line, or has no header block (empty), is evaluated whole, exactly as received.
 */
export function startAuth(deps: SmtpDeps, c: ConnState, tx: TxState, guard: DataGuard): Promise<AuthFacts> | undefined {
  const authenticate = deps.authenticate;
  if (!authenticate || !evaluated(deps, c)) return undefined;
  const policy = deps.snapshot().policy;
  const mta = authservId(deps);
  const run = (message: Readable | Buffer, unsignedHeaderBlock = false): Promise<AuthFacts> =>
    authenticate({
      message,
      unsignedHeaderBlock,
      clientIp: c.clientIp,
      helo: c.helo,
      mailFrom: tx.mailFrom,
      mta,
      isAcceptedDomain: (d) => acceptedDomainOf(d.toLowerCase(), policy) !== undefined,
      spf: tx.spf && tx.spf.mta === mta ? tx.spf.outcome : undefined,
    });
  const streamed = (): Promise<AuthFacts> => {
    const tee = new PassThrough({ highWaterMark: 256 * 1024 });
    guard.pipe(tee);
    const facts = run(tee);
    // Whatever the evaluator did, the rest of the tee must flow or the spool writer would stall.
    const drain = (): void => void tee.resume();
    facts.then(drain, drain);
    return facts;
  };
  const facts = new Promise<AuthFacts>((resolve) => {
    let started = false;
    guard.once('headers', (block: Buffer) => {
      started = true;
      // From here on every byte the guard emits (this block first) reaches a pipe made now.
      resolve(block.length > 2 && !SIGNATURE_NAME.test(block.toString('latin1')) ? run(block, true) : streamed());
    });
    // No header block at all: an empty message (or a violation, whose facts go unused).
    guard.once('end', () => {
      if (!started) resolve(run(Buffer.alloc(0)));
    });
  });
  // The evaluator never rejects by contract; should it, a DATA refused before its reply awaits
  // these facts must not leave an unhandled rejection behind.
  facts.catch(() => undefined);
  return facts;
}

/** A stable 0..99 number per message for DMARC pct sampling (same answer in a replay). */
export function pctSample(id: string): number {
  return (createHash('sha256').update(id).digest().readUInt16BE(0) % 100) as number;
}

/** What policy needs from the facts. */
export function authSummary(f: AuthFacts, id: string): AuthSummary {
  return {
    spf: f.spf.result,
    dmarc: f.dmarc.result,
    dmarcPolicy: f.dmarc.policy,
    dmarcPct: f.dmarc.pct,
    dmarcDomain: f.dmarc.headerFrom,
    sample: pctSample(id),
    spoofSuspect: f.spoofSuspect,
  };
}

/** The trace's dkim column: each signature verified, then each one over the cap as not-checked. */
function dkimColumn(f: AuthFacts): string {
  const unchecked = f.dkimNotChecked ?? [];
  if (f.dkim.length === 0 && unchecked.length === 0) return 'none';
  const rows = [...f.dkim.map((d) => ({ d: d.domain, s: d.selector, result: d.result as string })), ...unchecked.map((d) => ({ d: d.domain, s: d.selector, result: 'not-checked' }))];
  return JSON.stringify(rows);
}

/** Trace columns for the facts (each starts with the result word, as the reports match on it). */
export function authColumns(f: AuthFacts | undefined): Partial<Pick<TraceMessage, 'spf' | 'dkim' | 'dmarc' | 'arc' | 'compauth' | 'spoofSuspect' | 'dnsLookups'>> {
  if (!f) return {};
  const dmarc = `${f.dmarc.result}${f.dmarc.policy ? ' p=' + f.dmarc.policy : ''} spf=${f.dmarc.alignment.spf ? 1 : 0} dkim=${f.dmarc.alignment.dkim ? 1 : 0}${f.dmarc.headerFrom ? ' header.from=' + f.dmarc.headerFrom : ''}`;
  return {
    spf: `${f.spf.result}${f.spf.domain ? ' smtp.mailfrom=' + f.spf.domain : ''}`,
    dkim: dkimColumn(f),
    dmarc,
    arc: `${f.arc.result}${f.arc.i ? '/i=' + f.arc.i : ''}`,
    compauth: `${f.compauth.result} reason=${f.compauth.reason}`,
    spoofSuspect: f.spoofSuspect,
    dnsLookups: f.dnsLookups,
  };
}
