/**
 * @module audit/model
 * The shape every export is mapped to before it reaches the trace (one ImportedRow per message and
 * recipient, as Exchange's own message trace and EmailEvents list them), and the mapping decisions
 * shared by every kind: direction words, status words, authentication words, and the attribution
 * computed exactly as the gateway names it:
 * - `connector`: inbound, a connector is named (connector_id, Connectors);
 * - `direct-send`: inbound, no connector, a client IP, MAIL FROM (P1) domain is a tenant domain;
 * - `anonymous-external`: any other inbound (or unknown-direction) message; a row without a client
 *   IP never reached Exchange from an SMTP client, so it is never Direct Send;
 * - `authenticated`: outbound and intra-org mail (sent by a tenant mailbox, i.e. authenticated).
 * Status: Delivered / Expanded / Send → Delivered; Failed / Fail / Drop → Failed; Quarantined →
 * Quarantined; FilteredAsSpam and EmailEvents' Junked → Quarantined (held back from the inbox by a
 * filter: the trace has no Junk state, and the readiness report reads no status but Rejected);
 * Pending / GettingStatus / Defer → Pending or Deferred; anything else → Received.
 * Touches: nothing (pure).
 */
import type { ExoVerdicts, TraceStatus } from '../trace/index.ts';

export type Direction = 'inbound' | 'outbound' | 'intra-org' | 'unknown';

/** One message copy (network message id + recipient) read from an export. */
export interface ImportedRow {
  /** Dedupe key: network message id (or its substitute) + '|' + lower-case recipient. */
  key: string;
  networkMessageId: string;
  receivedAt: number;
  direction: Direction;
  clientIp: string;
  mailFrom?: string | undefined;
  headerFrom?: string | undefined;
  recipient: string;
  subject?: string | undefined;
  size?: number | undefined;
  messageId?: string | undefined;
  connector?: string | undefined;
  status: TraceStatus;
  tlsVersion?: string | undefined;
  spf?: string | undefined;
  dkim?: string | undefined;
  dmarc?: string | undefined;
  compauth?: string | undefined;
  /** Exchange's own verdicts as the export wrote them (Status, DeliveryAction, ThreatTypes, …). */
  exo?: ExoVerdicts | undefined;
}

/** Exchange's direction words and numbers (1/2 of the historical search; Incoming/Originating of tracking logs). */
export function directionOf(text: string | undefined): Direction {
  const t = (text ?? '').trim().toLowerCase().replace(/[\s_-]/g, '');
  if (t === '1' || t === 'inbound' || t === 'incoming' || t === 'received') return 'inbound';
  if (t === '2' || t === 'outbound' || t === 'originating' || t === 'sent') return 'outbound';
  if (t === 'intraorg' || t === 'intraorganization' || t === '3') return 'intra-org';
  return 'unknown';
}

const STATUS: Record<string, TraceStatus> = {
  delivered: 'Delivered', deliver: 'Delivered', expanded: 'Delivered', expand: 'Delivered', send: 'Delivered', replaced: 'Delivered',
  resolved: 'Delivered', resolve: 'Delivered', transfer: 'Delivered', redirect: 'Delivered',
  failed: 'Failed', fail: 'Failed', drop: 'Failed', blocked: 'Failed', bounced: 'Failed',
  quarantined: 'Quarantined', quarantine: 'Quarantined', filteredasspam: 'Quarantined', junked: 'Quarantined',
  pending: 'Pending', gettingstatus: 'Pending', defer: 'Deferred', deferred: 'Deferred',
  receive: 'Received', received: 'Received', submit: 'Received',
};

/** A status or event word of any export mapped to the trace status (see the module header). */
export function statusOf(word: string | undefined): TraceStatus {
  return STATUS[(word ?? '').trim().toLowerCase().replace(/[\s_-]/g, '')] ?? 'Received';
}

/** Domain of an address, lower case ('' for none). */
export function domainOfAddress(a: string | undefined): string {
  if (!a) return '';
  const at = a.lastIndexOf('@');
  return at < 0 ? '' : a.slice(at + 1).trim().toLowerCase().replace(/>$/, '');
}

/** Strip the angle brackets of `<a@b>`; `<>` and '' become undefined (null sender). */
export function address(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().replace(/^<(.*)>$/, '$1').trim();
  return t === '' ? undefined : t;
}

/** The attribution the gateway would record (module header). */
export function attributionOf(r: Pick<ImportedRow, 'direction' | 'connector' | 'mailFrom' | 'clientIp'>, tenant: ReadonlySet<string>): string {
  if (r.direction === 'outbound' || r.direction === 'intra-org') return 'authenticated';
  if (r.connector) return 'connector';
  return r.clientIp !== '' && tenant.has(domainOfAddress(r.mailFrom)) ? 'direct-send' : 'anonymous-external';
}

/** The listener column of an imported row: the direction Exchange reported (`exo:inbound` …). */
export function listenerOf(d: Direction): string {
  return `exo:${d}`;
}

/** An authentication verdict word, lower case ('' / none-ish placeholders → undefined). */
export function authValue(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim().toLowerCase();
  return t === '' ? undefined : t;
}

/** `S:SPF=pass;S:DKIM=none;S:DMARC=fail;S:CompAuth=fail` style values inside custom_data / message_info. */
export function authFromCustomData(text: string | undefined): Pick<ImportedRow, 'spf' | 'dkim' | 'dmarc' | 'compauth'> {
  const out: Pick<ImportedRow, 'spf' | 'dkim' | 'dmarc' | 'compauth'> = {};
  if (!text || text.indexOf('=') < 0) return out;
  const re = /(?:^|[;|,\s])S:(SPF|DKIM|DMARC|CompAuth)=([A-Za-z]+)/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const k = m[1]!.toLowerCase() as 'spf' | 'dkim' | 'dmarc' | 'compauth';
    out[k] ??= m[2]!.toLowerCase();
  }
  return out;
}

/** EmailEvents' AuthenticationDetails (JSON text or object with SPF, DKIM, DMARC, CompAuth keys, any case). */
export function authFromDetails(v: unknown): Pick<ImportedRow, 'spf' | 'dkim' | 'dmarc' | 'compauth'> | undefined {
  let o: unknown = v;
  if (typeof v === 'string') {
    if (v.trim() === '') return {};
    try {
      o = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (o === null || o === undefined) return {};
  if (typeof o !== 'object' || Array.isArray(o)) return undefined;
  const get = (k: string): string | undefined => {
    for (const [key, val] of Object.entries(o as Record<string, unknown>)) if (key.toLowerCase() === k) return authValue(val);
    return undefined;
  };
  return { spf: get('spf'), dkim: get('dkim'), dmarc: get('dmarc'), compauth: get('compauth') };
}
