/**
 * @module ops/adopt
 * "Adopt as connector" and "Create user" for one source of the Direct Send readiness report (the
 * console's readiness page, API /api/v1/readiness/…). A recommendation is code: both act only
 * where the report's own recommendation says so.
 * - Adopt: only a source recommended a connector (connector-ip, connector-certificate, or an IPv6
 *   device relayed through mailgate): by its verified client certificate when it presented one,
 *   else by its one address as /32 or /128 — never a range wider than the evidence. likely-spoof,
 *   unknown and shared/third-party services are refused with the report's reason. The connector
 *   is a Partner one, as recommended (OnPremises would let the source relay to outside domains,
 *   ignore senderDomains and skip the DMARC policy: wider than the evidence; an admin who wants
 *   that changes the connector afterwards, as its own reviewed edit), scoped to the source's sender domain and
 *   carries no domain restriction (a restriction locks the domain for every other source; the
 *   audit plan stages it). The preview returns the connector, the YAML diff, a replay of the last
 *   N days under the candidate (what it would let through or newly reject, and how many of the
 *   source's messages it attributes to the connector), the base version and the evidence it was
 *   built on (a fingerprint of the source's class, action, sender domain, verified certificate and
 *   warnings, with its message count and last sighting to show); apply saves it only while that
 *   base is still the version in force and the source, recomputed from the trace then, still has
 *   that fingerprint (409 otherwise; for new evidence with the new preview), and a source carrying
 *   warnings (a loopback or NAT address) only with `acknowledgeWarnings`. New messages of the same
 *   kind do not change the fingerprint (a busy device could never be confirmed otherwise).
 * - Create user: an SMTP AUTH account for a device-or-app source, which may send as the source's
 *   one address only (never "@domain" or "*"), with a generated password returned once.
 * Only the gateway's own traffic counts (imported rows migrate in Exchange, through the audit plan).
 * The report and the replay read ctx.trace (on a fleet node the fleet's shared trace).
 * Touches: the trace tables (read), the config store; DNS for the organization's SPF record unless
 * `spf` is given (as the report).
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { compilePolicy, lineDiff, maskedYaml, validateConfig, type InboundConnector } from '../config/index.ts';
import { connectorNameFor, plainIp, type DirectSendSource } from '../trace/reports/index.ts';
import { attributionShiftFrom, type AttributionShift } from './adopt-replay.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { change, current, indexOfNamed } from './model.ts';
import { policyReplay, type ReplyText } from './policy.ts';
import type { SourceChange } from './policy-replay.ts';
import { directSend, windowOf, type ReportSeams } from './reports.ts';
import { addUser } from './users.ts';

/**
 * One source of the readiness report over the gateway's own traffic, and the report's window and
 * classification inputs. Imported Exchange Online rows are never mixed in: their sources migrate
 * in Exchange (the audit plan), and their evidence is not this gateway's.
 */
export interface SourceRef {
  clientIp: string;
  sender: string;
  since?: string | undefined;
  internal?: string[] | undefined;
  spf?: string | undefined;
}

export interface AdoptInput extends SourceRef {
  /** Connector name (default: the report's, "Direct Send <ip or CN>"). */
  name?: string | undefined;
  /** Days of trace replayed under the candidate (default 7). */
  replayDays?: number | undefined;
}

/** The source as the preview shows it. */
export type SourceSummary = Pick<DirectSendSource, 'clientIp' | 'sender' | 'senderDomain' | 'messages' | 'classification' | 'reason' | 'signals' | 'warnings' | 'action' | 'recommendation' | 'certCn'>;

/** What the candidate was built from; apply sends `fingerprint` back (module header). */
export interface AdoptEvidence {
  fingerprint: string;
  classification: string;
  action: string;
  /** The verified client certificate's CN ('' when none). */
  certCn: string;
  messages: number;
  lastSeen: string;
}

export interface AdoptPreview {
  /** The version the candidate is built on: apply only while it is still in force. */
  baseVersion: number;
  /** The source's evidence the candidate is built on: apply only while it is unchanged. */
  evidence: AdoptEvidence;
  source: SourceSummary;
  connector: InboundConnector;
  /** YAML diff of the configuration in force and the candidate (secrets masked). */
  diff: string;
  /** The source's warnings: apply needs acknowledgeWarnings when there are any. */
  warnings: string[];
  replay: {
    since: string;
    until: string;
    replayed: number;
    summary: string[];
    /** Transactions newly rejected, or no longer rejected (let through), by source. */
    changes: SourceChange[];
    attribution: AttributionShift;
  };
}

/** The actions whose recommendation is a connector. */
const ADOPTABLE = new Set(['connector-ip', 'connector-certificate', 'relay-via-mailgate']);

const keyOnly: ReplyText = (key) => key;

function refusalOf(s: DirectSendSource, grant = 'a connector by the address seen'): string {
  const who = `${s.clientIp} ${s.sender || '<>'}`;
  switch (s.classification) {
    case 'likely-spoof':
      return `refused: ${who} is classified likely-spoof (${s.reason}): nothing to migrate, RejectDirectSend will stop it`;
    case 'unknown':
      return `refused: ${who} is unclassified (${s.reason}): investigate before giving it a path (${s.recommendation})`;
    default:
      return `refused: ${who} is a ${s.classification} (${s.reason}): the recommendation is not ${grant}: ${s.recommendation}`;
  }
}

/** The report's source for (clientIp, sender); not-found when the window has none. */
export async function findSource(ctx: OpsContext, ref: SourceRef, seams: ReportSeams = {}, now = Date.now()): Promise<DirectSendSource> {
  const r = await directSend(ctx, { since: ref.since, source: 'gateway', internal: ref.internal, spf: ref.spf }, seams, now);
  const ip = plainIp(ref.clientIp);
  const sender = ref.sender.toLowerCase();
  const s = r.sources.find((x) => plainIp(x.clientIp) === ip && x.sender === sender);
  if (!s) throw new OpsError('not-found', `no Direct Send source ${ref.clientIp} ${ref.sender || '<>'} in the report's window (see the readiness report)`);
  return s;
}

/** The connector the recommendation describes (module header). */
function connectorFor(s: DirectSendSource, input: AdoptInput): InboundConnector {
  if (!ADOPTABLE.has(s.action)) throw new OpsError('invalid', refusalOf(s));
  if (!s.senderDomain) throw new OpsError('invalid', `refused: ${s.clientIp} sends with no sender domain: a connector needs one to be scoped to`);
  const byCert = s.action === 'connector-certificate';
  const ip = plainIp(s.clientIp);
  const c: InboundConnector = {
    name: input.name ?? connectorNameFor({ clientIp: s.clientIp, certCn: s.certCn || undefined }, byCert),
    connectorType: 'Partner',
    senderIPAddresses: byCert ? [] : [`${ip}/${isIP(ip) === 6 ? 128 : 32}`],
    senderDomains: [s.senderDomain],
    requireTls: byCert,
    restrictDomainsToIPAddresses: false,
    restrictDomainsToCertificate: false,
    enabled: true,
    comment: `adopted from the Direct Send readiness report: ${s.clientIp} ${s.sender} (${s.classification})`,
  };
  if (byCert) c.tlsSenderCertificateName = s.certCn;
  return c;
}

/** The evidence of `s` (module header: what its fingerprint covers, and why not the counts). */
export function evidenceOf(s: DirectSendSource): AdoptEvidence {
  const decisive = [s.classification, s.action, s.senderDomain, s.certCn, [...s.warnings].sort()];
  const fingerprint = createHash('sha256').update(JSON.stringify(decisive)).digest('hex').slice(0, 32);
  return { fingerprint, classification: s.classification, action: s.action, certCn: s.certCn, messages: s.messages, lastSeen: s.lastSeen };
}

/** Apply refused: the source's evidence changed since the preview; `preview` is the new one. */
export class EvidenceChanged extends OpsError {
  constructor(
    message: string,
    readonly preview: AdoptPreview,
  ) {
    super('conflict', message);
  }
}

function summaryOf(s: DirectSendSource): SourceSummary {
  const { clientIp, sender, senderDomain, messages, classification, reason, signals, warnings, action, recommendation, certCn } = s;
  return { clientIp, sender, senderDomain, messages, classification, reason, signals, warnings, action, recommendation, certCn };
}

/** The candidate connector, the diff and the replay; nothing is saved. */
export async function adoptPreview(ctx: OpsContext, input: AdoptInput, replyText: ReplyText = keyOnly, seams: ReportSeams = {}): Promise<AdoptPreview> {
  const s = await findSource(ctx, input, seams);
  const connector = connectorFor(s, input);
  const cur = await ctx.store.current();
  if (!cur) throw new OpsError('unavailable', 'the store holds no configuration');
  if (indexOfNamed(cur.config.inboundConnectors, connector.name) >= 0) throw new OpsError('conflict', `inbound connector "${connector.name}" already exists: give another name`);
  const draft = structuredClone(cur.config);
  draft.inboundConnectors.push(connector);
  const candidate = validateConfig(draft);
  const days = input.replayDays ?? 7;
  const window = await windowOf(ctx, `${days}d`);
  const replay = await policyReplay(ctx, { window, candidate }, replyText);
  const shift = [window, compilePolicy(cur.config, cur.version), compilePolicy(candidate, 0), { ips: [s.clientIp, plainIp(s.clientIp)], certCn: s.certCn || undefined }, connector.name] as const;
  const attribution = await attributionShiftFrom(ctx.trace, ...shift);
  return {
    baseVersion: cur.version,
    evidence: evidenceOf(s),
    source: summaryOf(s),
    connector,
    diff: lineDiff(maskedYaml(cur.config), maskedYaml(candidate), `config version ${cur.version}`, 'candidate'),
    warnings: s.warnings,
    replay: { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString(), replayed: replay.replayed, summary: replay.summary, changes: replay.changes, attribution },
  };
}

/**
 * Save the previewed connector as a new version, only while `baseVersion` is in force and the
 * source's evidence still has the preview's fingerprint (else EvidenceChanged, with the new preview).
 */
export async function adoptApply(
  ctx: OpsContext,
  input: AdoptInput & { baseVersion: number; evidence: string; acknowledgeWarnings?: boolean | undefined; comment?: string | undefined },
  seams: ReportSeams = {},
  replyText: ReplyText = keyOnly,
): Promise<{ version: number; connector: string }> {
  const stale = (now: number): OpsError => new OpsError('conflict', `the configuration changed since the preview (version ${input.baseVersion}, now ${now}): preview again`);
  const inForce = await ctx.store.currentVersion();
  if (inForce !== input.baseVersion) throw stale(inForce);
  const s = await findSource(ctx, input, seams);
  if (evidenceOf(s).fingerprint !== input.evidence) {
    // A refusal of the new evidence (a spoof now, say) leaves as its own 422 from the preview.
    const preview = await adoptPreview(ctx, input, replyText, seams);
    const cert = s.certCn ? `, verified certificate ${s.certCn}` : '';
    throw new EvidenceChanged(`the evidence for ${s.clientIp} ${s.sender || '<>'} changed since the preview (now ${s.classification}, ${s.action}${cert}): check the new preview and confirm again`, preview);
  }
  const connector = connectorFor(s, input);
  if (s.warnings.length && !input.acknowledgeWarnings) throw new OpsError('invalid', `refused: the source carries warnings that need acknowledging: ${s.warnings.join('; ')}`);
  const why = `adopt ${s.clientIp} ${s.sender} as connector ${connector.name}${input.comment ? `: ${input.comment}` : ''}`;
  const { version } = await change(ctx, why, (draft, now) => {
    // Checked again under the store's write lock: the version in force must still be the preview's.
    if (now !== input.baseVersion) throw stale(now);
    if (indexOfNamed(draft.inboundConnectors, connector.name) >= 0) throw new OpsError('conflict', `inbound connector "${connector.name}" already exists: give another name`);
    draft.inboundConnectors.push(connector);
  });
  return { version, connector: connector.name };
}

export interface SourceUser {
  version: number;
  name: string;
  /** Shown once; only its scrypt hash is stored. */
  password: string;
  sendAs: string[];
  warnings: string[];
}

/** An SMTP AUTH user for a device-or-app source, allowed its own address only (module header). */
export async function createSourceUser(ctx: OpsContext, ref: SourceRef & { name?: string | undefined }, seams: ReportSeams = {}): Promise<SourceUser> {
  const s = await findSource(ctx, ref, seams);
  if (s.classification !== 'device-or-app') throw new OpsError('invalid', refusalOf(s, 'an SMTP AUTH user'));
  if (!s.sender) throw new OpsError('invalid', `refused: ${s.clientIp} sends with the null sender: a user needs an address to send as`);
  const name = ref.name ?? s.sender;
  const password = randomBytes(18).toString('base64url');
  const { version } = await addUser(ctx, { name, password, sendAs: [s.sender] });
  const warnings: string[] = [];
  const config = await current(ctx);
  if (!config.receiveConnectors.some((l) => l.role === 'submission')) warnings.push('no submission listener: add one (mailgate listener add … --role submission) before the device can log in');
  warnings.push(`configure the device to submit with SMTP AUTH as ${name} over TLS`);
  return { version, name, password, sendAs: [s.sender], warnings };
}
