/**
 * @module ops/trace-explain
 * A traced message explained in an Exchange Online admin's words: how it was attributed (Direct
 * Send, an inbound connector by IP or certificate, SMTP AUTH, ordinary internet mail), what
 * SPF/DKIM/DMARC and composite authentication (compauth) said, the TLS of the session, which
 * transport rules matched (Audit hits as "would have"), and where the message ended. Pure: the
 * trace show route and the console print it; every string in it is still untrusted (names and
 * domains come from the message) and is escaped by whoever renders it.
 * Touches: nothing.
 * RFCs: 7208 (SPF results), 6376 (DKIM), 7489 (DMARC), 8601 (result names).
 */
import type { TraceEvent, TraceMessage } from '../trace/index.ts';
import { parseRuleDetail } from '../trace/reports/index.ts';

export type ExplainTopic = 'attribution' | 'connector' | 'spf' | 'dkim' | 'dmarc' | 'compauth' | 'tls' | 'rules' | 'outcome';

export interface ExplainLine {
  topic: ExplainTopic;
  /** ok: nothing to act on; warn: worth a look; bad: refused, spoofed or failing. */
  tone: 'ok' | 'warn' | 'bad';
  text: string;
}

export interface TraceExplanation {
  /** One sentence: the path the message took and how it ended. */
  summary: string;
  lines: ExplainLine[];
}

const PATH: Record<string, string> = {
  'direct-send': 'Direct Send (anonymous, with your own domain as sender)',
  connector: 'an inbound connector',
  authenticated: 'SMTP AUTH (client submission)',
  'anonymous-external': 'anonymous internet mail',
  'relay-denied': 'a refused relay attempt',
};

function attribution(m: TraceMessage): ExplainLine {
  switch (m.attribution) {
    case 'direct-send':
      if (m.status === 'Rejected' && /\b5\.7\.68\b/.test(m.reply ?? ''))
        return {
          topic: 'attribution',
          tone: 'bad',
          text:
            `Direct Send refused: sent without authentication from ${m.clientIp} with a sender in one of your accepted domains and no inbound connector matched, and RejectDirectSend is on (5.7.68 TenantInboundAttribution). ` +
            'If this source is legitimate (a printer, an app), give it a connector (by IP or certificate) or SMTP AUTH; otherwise nothing to do.',
        };
      return {
        topic: 'attribution',
        tone: 'warn',
        text:
          `Direct Send: sent without authentication from ${m.clientIp}, with a sender in one of your accepted domains, and no inbound connector matched. ` +
          'Exchange Online attributes such mail to your organization by the sender domain alone (TenantInboundAttribution), so anyone can send it; ' +
          'give this source a connector (by IP or certificate) or SMTP AUTH, then turn on RejectDirectSend (5.7.68).',
      };
    case 'connector':
      return { topic: 'attribution', tone: 'ok', text: `Attributed to inbound connector "${m.connector ?? '?'}": a trusted path you configured.` };
    case 'authenticated':
      return { topic: 'attribution', tone: 'ok', text: `Authenticated with SMTP AUTH as "${m.authUser ?? '?'}" (like client submission to smtp.office365.com); no connector is needed.` };
    case 'anonymous-external':
      return {
        topic: 'attribution',
        tone: 'ok',
        text: 'Anonymous internet mail: the sender is outside your accepted domains and a recipient is inside them. It is judged by SPF, DKIM and DMARC (composite authentication), as Exchange Online does.',
      };
    case 'relay-denied':
      return { topic: 'attribution', tone: 'bad', text: 'Relay denied: neither the sender nor any recipient is in your accepted domains and no connector or SMTP AUTH allows relaying (5.7.64).' };
    case undefined:
    case '':
      return { topic: 'attribution', tone: 'bad', text: `The connection from ${m.clientIp} was refused before a sender was given, so it has no attribution.` };
    default:
      return { topic: 'attribution', tone: 'warn', text: `Attribution "${m.attribution}".` };
  }
}

function connector(m: TraceMessage): ExplainLine | undefined {
  if (m.attribution !== 'connector') return undefined;
  const type = m.connectorType === 'OnPremises' ? 'OnPremises (your own mail servers)' : m.connectorType === 'Partner' ? 'Partner (an outside organization or service)' : (m.connectorType ?? 'unknown type');
  const by =
    m.connectorMatchedBy === 'certificate'
      ? `by the client's TLS certificate (TlsSenderCertificateName${m.certCn ? `, certificate CN "${m.certCn}"` : ''}${m.certVerified === false ? ', chain NOT verified' : ''})`
      : `by the sending IP address ${m.clientIp} (SenderIPAddresses)`;
  return { topic: 'connector', tone: m.certVerified === false && m.connectorMatchedBy === 'certificate' ? 'warn' : 'ok', text: `Connector type ${type}, matched ${by}.` };
}

/** First word of an auth column ("fail smtp.mailfrom=x" → fail) and its key=value pairs. */
function parseResult(s: string | undefined): { word: string; kv: Record<string, string> } | undefined {
  if (!s) return undefined;
  const [word = '', ...rest] = s.trim().split(/\s+/);
  const kv: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i > 0) kv[p.slice(0, i)] = p.slice(i + 1);
  }
  return { word: word.toLowerCase(), kv };
}

const SPF_WORDS: Record<string, [ExplainLine['tone'], string]> = {
  pass: ['ok', 'the sending IP is authorized by the SPF record'],
  fail: ['bad', 'the SPF record says this IP may NOT send for the domain (hard fail, -all)'],
  softfail: ['warn', 'the SPF record says this IP is probably not allowed (soft fail, ~all)'],
  neutral: ['warn', 'the SPF record neither allows nor forbids this IP (?all)'],
  none: ['warn', 'the domain publishes no SPF record'],
  temperror: ['warn', 'a DNS error stopped the check (temporary)'],
  permerror: ['bad', 'the SPF record is broken (syntax, or more than 10 DNS lookups)'],
};

function spf(m: TraceMessage): ExplainLine | undefined {
  const r = parseResult(m.spf);
  if (!r) return undefined;
  const [tone, meaning] = SPF_WORDS[r.word] ?? ['warn', 'an unknown result'];
  const domain = r.kv['smtp.mailfrom'];
  return { topic: 'spf', tone, text: `SPF ${r.word}${domain ? ` for ${domain} (MAIL FROM)` : ''}: ${meaning}.` };
}

function dkim(m: TraceMessage): ExplainLine | undefined {
  if (!m.dkim) return undefined;
  if (m.dkim.trim().toLowerCase() === 'none') return { topic: 'dkim', tone: 'warn', text: 'DKIM none: the message was not signed.' };
  let sigs: Array<{ d?: unknown; s?: unknown; result?: unknown }>;
  try {
    const parsed: unknown = JSON.parse(m.dkim);
    sigs = Array.isArray(parsed) ? (parsed as typeof sigs) : [];
  } catch {
    return { topic: 'dkim', tone: 'warn', text: `DKIM: ${m.dkim}.` };
  }
  if (sigs.length === 0) return { topic: 'dkim', tone: 'warn', text: 'DKIM none: the message was not signed.' };
  const parts = sigs.map((g) => `${String(g.result ?? '?')} (d=${String(g.d ?? '?')}${g.s ? `, selector ${String(g.s)}` : ''})`);
  const pass = sigs.some((g) => g.result === 'pass');
  return { topic: 'dkim', tone: pass ? 'ok' : 'bad', text: `DKIM: ${parts.join('; ')}${pass ? '' : ': no signature verified'}.` };
}

function dmarc(m: TraceMessage): ExplainLine | undefined {
  const r = parseResult(m.dmarc);
  if (!r) return undefined;
  const from = r.kv['header.from'];
  const policy = r.kv.p;
  const aligned = [r.kv.spf === '1' ? 'SPF' : '', r.kv.dkim === '1' ? 'DKIM' : ''].filter(Boolean);
  const on = from ? ` for the From domain ${from}` : '';
  switch (r.word) {
    case 'pass':
      return { topic: 'dmarc', tone: 'ok', text: `DMARC pass${on}: ${aligned.join(' and ') || 'SPF or DKIM'} passed aligned with the From domain.` };
    case 'fail':
      return {
        topic: 'dmarc',
        tone: 'bad',
        text: `DMARC fail${on}${policy ? ` (published policy p=${policy})` : ''}: neither SPF nor DKIM passed aligned with the From domain, so the From address is not proven.`,
      };
    case 'none':
      return { topic: 'dmarc', tone: 'warn', text: `DMARC none${on}: the domain publishes no DMARC record.` };
    default:
      return { topic: 'dmarc', tone: 'warn', text: `DMARC ${r.word}${on}: the check could not complete (${r.word === 'temperror' ? 'DNS trouble' : 'a broken record'}).` };
  }
}

const COMPAUTH: Record<string, string> = {
  '000': 'explicit DMARC failure: the From domain publishes p=quarantine or p=reject',
  '001': 'implicit authentication failure: no DMARC pass and nothing else vouches for the sender',
  '010': 'explicit DMARC failure for one of your own domains',
  '601': 'your own domain failed authentication (intra-organization spoof)',
  '100': 'SPF and DKIM both aligned',
  '101': 'DKIM aligned',
  '102': 'SPF aligned',
  '109': 'no DMARC record, but SPF or DKIM passed for the From domain',
  '111': 'DMARC had an error but SPF or DKIM passed aligned',
  '112': 'DMARC lookup timed out',
  '200': 'SPF or DKIM passed, but for another domain',
  '300': 'not checked (no usable From)',
};

function compauth(m: TraceMessage): ExplainLine | undefined {
  const r = parseResult(m.compauth);
  if (!r) return undefined;
  const reason = r.kv.reason;
  const meaning = reason ? COMPAUTH[reason] : undefined;
  const tone: ExplainLine['tone'] = r.word === 'pass' ? 'ok' : r.word === 'fail' ? 'bad' : 'warn';
  const spoof = m.spoofSuspect ? ' SPF, DKIM and DMARC all failed: treat the sender as spoofed.' : '';
  return { topic: 'compauth', tone, text: `Composite authentication (compauth) ${r.word}${reason ? ` reason ${reason}` : ''}${meaning ? `: ${meaning}` : ''}.${spoof}` };
}

function tls(m: TraceMessage): ExplainLine {
  if (!m.tlsVersion) return { topic: 'tls', tone: 'warn', text: `Received without TLS on listener "${m.listener}".` };
  return { topic: 'tls', tone: 'ok', text: `Received over ${m.tlsVersion}${m.tlsCipher ? ` (${m.tlsCipher})` : ''} on listener "${m.listener}".` };
}

function rules(events: readonly TraceEvent[]): ExplainLine[] {
  const out: ExplainLine[] = [];
  for (const e of events) {
    if (e.event !== 'RULE') continue;
    const h = parseRuleDetail(e.detail);
    if (!h) {
      out.push({ topic: 'rules', tone: 'ok', text: `Transport rule: ${e.detail ?? ''}.` });
      continue;
    }
    const ran = h.ran.length ? `ran ${h.ran.join(', ')}` : 'ran nothing';
    const would = h.wouldHave.length ? `; would have run ${h.wouldHave.join(', ')} if it were in Enforce mode` : '';
    out.push({ topic: 'rules', tone: h.wouldHave.length ? 'warn' : 'ok', text: `Transport rule "${h.rule}" matched in ${h.mode} mode: ${ran}${would}.` });
  }
  return out;
}

function outcome(m: TraceMessage, events: readonly TraceEvent[]): ExplainLine {
  const last = (type: TraceEvent['event']): TraceEvent | undefined => [...events].reverse().find((e) => e.event === type);
  switch (m.status) {
    case 'Rejected':
      return { topic: 'outcome', tone: 'bad', text: `Refused at the door${m.reply ? ` with "${m.reply}"` : ''}: nothing was accepted, the sending server got the error.` };
    case 'Quarantined':
      return { topic: 'outcome', tone: 'warn', text: `Held in quarantine${last('QUARANTINE')?.detail ? ` (${last('QUARANTINE')?.detail})` : ''}: an admin can release or delete it.` };
    case 'Delivered':
      return { topic: 'outcome', tone: 'ok', text: `Delivered${last('DELIVER')?.detail ? `: the next hop answered "${last('DELIVER')?.detail}"` : ''}.` };
    case 'Failed':
      return { topic: 'outcome', tone: 'bad', text: `Delivery failed permanently${last('FAIL')?.detail ? `: "${last('FAIL')?.detail}"` : ''}; the sender gets a bounce (DSN) when one is possible.` };
    case 'Deferred':
      return { topic: 'outcome', tone: 'warn', text: `Delivery deferred${last('DEFER')?.detail ? `: "${last('DEFER')?.detail}"` : ''}; it will be retried.` };
    default: {
      const released = last('RELEASE');
      if (released) return { topic: 'outcome', tone: 'ok', text: `Released from quarantine (${released.detail ?? 'released'}) and queued for delivery.` };
      return { topic: 'outcome', tone: 'ok', text: `Accepted (250) and queued for delivery; status ${m.status}.` };
    }
  }
}

/** The explanation of message `m` with its `events` (oldest first). */
export function explainTrace(m: TraceMessage, events: readonly TraceEvent[]): TraceExplanation {
  const lines = [attribution(m), connector(m), spf(m), dkim(m), dmarc(m), compauth(m), tls(m), ...rules(events), outcome(m, events)].filter((l): l is ExplainLine => l !== undefined);
  const path = m.attribution ? (PATH[m.attribution] ?? m.attribution) : 'a refused connection';
  const via = m.attribution === 'connector' && m.connector ? ` "${m.connector}"` : '';
  return { summary: `From ${m.clientIp} by ${path}${via}; ${m.status}.`, lines };
}
