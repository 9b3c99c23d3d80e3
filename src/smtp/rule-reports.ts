/**
 * @module smtp/rule-reports
 * The messages transport rules generate, queued like bounces (null sender, so they never loop):
 * - an incident report (Exchange's GenerateIncidentReport) to the address a rule names: the rule,
 *   its mode, what ran and what would have run, the message's envelope and facts, and its header
 *   section as a text/rfc822-headers part (never the body). Sent in every mode.
 * - the AuditAndNotify notification (Exchange's GenerateNotification, kept small): a notice to the
 *   envelope sender that the message met a rule under test, and what enforcing it would do. Only
 *   to senders inside the organization (authenticated, or an OnPremises connector): a notice to an
 *   anonymous sender would be backscatter to a possibly forged address.
 * Touches: the queue, through the acceptor's acceptBytes (queueRuleReports); the builders are pure.
 * RFCs: 5322, 2046 (multipart/mixed), 6522 (text/rfc822-headers), 3834 (Auto-Submitted).
 */
import { createHash } from 'node:crypto';
import type { RuleHit } from '../policy/rules/index.ts';
import type { Attribution } from '../policy/types.ts';
import type { RuleOutcome } from '../policy/rules/index.ts';
import type { TraceMessage } from '../trace/events.ts';
import type { SmtpDeps } from './deps.ts';
import { rfc5322Date } from './headers.ts';
import { hitDetail } from './rules-run.ts';

export interface ReportFacts {
  queueId: string;
  hostname: string;
  mailFrom: string;
  recipients: readonly string[];
  clientIp: string;
  attribution: Attribution;
  subject: string | undefined;
  messageId: string | undefined;
  headerBlock: Buffer | undefined;
  now: number;
}

const CRLF = '\r\n';

/** One line of untrusted text: control characters out, at most 200 characters. */
function line(s: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (s ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200);
}

function envelopeLines(f: ReportFacts): string[] {
  return [
    `Queue ID: ${f.queueId}`,
    `Message-ID: ${line(f.messageId)}`,
    `Subject: ${line(f.subject)}`,
    `MAIL FROM: <${line(f.mailFrom)}>`,
    `Recipients: ${f.recipients.map(line).join(', ')}`,
    `Client IP: ${f.clientIp}`,
    `Attribution: ${f.attribution.kind}${f.attribution.kind === 'connector' ? ` (${line(f.attribution.connector)})` : ''}`,
  ];
}

function mime(to: string, subject: string, f: ReportFacts, text: string, headers: string | undefined): Buffer {
  const seed = createHash('sha256').update(`${f.queueId}\0${to}\0${subject}`).digest('hex').slice(0, 24);
  const boundary = `=_mailgate-rule-${seed}`;
  const head = [
    `From: Mailgate <postmaster@${f.hostname}>`,
    `To: <${line(to)}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(f.now)}`,
    `Message-ID: <${f.queueId}.${seed}.rule@${f.hostname}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
  ];
  const body = (t: string): string => t.replace(/\r?\n/g, CRLF);
  if (headers === undefined) return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', body(text)].join(CRLF) + CRLF);
  return Buffer.from(
    [
      ...head,
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      body(text),
      `--${boundary}`,
      'Content-Type: text/rfc822-headers',
      'Content-Transfer-Encoding: 8bit',
      '',
      headers.replace(/\r?\n/g, CRLF).replace(/(\r\n)+$/, ''),
      `--${boundary}--`,
      '',
    ].join(CRLF),
  );
}

/** The incident report of one hit, to `to`. */
export function incidentReport(to: string, hit: RuleHit, f: ReportFacts): Buffer {
  const text = ['A mail flow rule matched a message.', '', `Rule: ${hit.rule}`, `Mode: ${hit.mode}`, `Detail: ${hitDetail(hit)}`, '', ...envelopeLines(f), '', "The message's header section is attached."].join('\n');
  return mime(to, `Incident report: rule ${line(hit.rule)} matched ${f.queueId}`, f, text, f.headerBlock ? f.headerBlock.toString('latin1') : '');
}

/** Whether the AuditAndNotify notice may go to this sender (inside the organization, not the null sender). */
export function mayNotify(f: Pick<ReportFacts, 'mailFrom' | 'attribution'>): boolean {
  const a = f.attribution;
  return f.mailFrom !== '' && (a.kind === 'authenticated' || (a.kind === 'connector' && a.connectorType === 'OnPremises'));
}

/** The AuditAndNotify notice to the sender. */
export function senderNotice(hit: RuleHit, f: ReportFacts): Buffer {
  const would = hit.actions.filter((a) => !hit.applied.includes(a));
  const text = [
    `Your message "${line(f.subject)}" to ${f.recipients.map(line).join(', ')} met the mail flow rule "${hit.rule}", which is being tested.`,
    'It was delivered as usual.',
    would.length ? `Once the rule is enforced, it would: ${would.join(', ')}.` : '',
    '',
    `Queue ID: ${f.queueId}`,
  ].join('\n');
  return mime(f.mailFrom, `Notice: your message met the mail flow rule ${line(hit.rule)}`, f, text, undefined);
}

/** The trace row of a generated message (a local source, like a bounce). */
function generatedRow(f: ReportFacts, to: string, subject: string): TraceMessage {
  return { id: '', connectionId: 'local', receivedAt: f.now, clientIp: '127.0.0.1', listener: 'rule', mailFrom: '', recipients: [to], subject, status: 'Pending', source: 'gateway' };
}

/**
 * Queue the incident reports and AuditAndNotify notices of an accepted message (null sender, like
 * bounces). Best effort after the 250: a failure is logged, the message itself is already safe.
 */
export function queueRuleReports(deps: SmtpDeps, o: RuleOutcome, f: ReportFacts): void {
  const acceptBytes = deps.acceptor.acceptBytes;
  if (!acceptBytes) return;
  const jobs: Array<{ to: string; bytes: Buffer; subject: string }> = [];
  for (const r of o.effect.incidentReports) {
    const hit = o.hits.find((h) => h.rule === r.rule);
    if (hit) jobs.push({ to: r.to, bytes: incidentReport(r.to, hit, f), subject: `Incident report: rule ${r.rule}` });
  }
  if (mayNotify(f)) {
    for (const name of o.effect.notify) {
      const hit = o.hits.find((h) => h.rule === name);
      if (hit) jobs.push({ to: f.mailFrom, bytes: senderNotice(hit, f), subject: `Notice: rule ${name}` });
    }
  }
  for (const j of jobs) {
    const meta = { receivedAt: f.now, envelope: { mailFrom: '', rcptTo: [j.to] }, prependHeaders: '', facts: { ruleReportFor: f.queueId } };
    acceptBytes(j.bytes, meta, 'deliver', generatedRow(f, j.to, j.subject)).catch((err: unknown) => deps.logger.error({ err, id: f.queueId, to: j.to }, 'could not queue a transport rule report'));
  }
}
