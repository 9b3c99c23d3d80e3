/**
 * @module web/app/pages/trace-message
 * One traced message as the Trace page shows it: the explanation (each line marked ok / check /
 * problem in words as well as colour), the facts of the session and envelope, and the timeline of
 * its events with their reply texts. Text only; nothing from the message is markup.
 * Touches: nothing (renders what the page fetched).
 */
import type { ComponentChildren } from 'preact';
import { DataTable } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import { formatBytes } from '../format.ts';
import { href } from '../router.ts';
import type { TraceEvent, TraceMessage, TraceShow } from './trace-types.ts';

const TONE: Record<string, string> = { ok: 'OK', warn: 'Check', bad: 'Problem' };
const TOPIC: Record<string, string> = {
  attribution: 'Attribution',
  connector: 'Connector',
  spf: 'SPF',
  dkim: 'DKIM',
  dmarc: 'DMARC',
  compauth: 'Composite auth',
  tls: 'TLS',
  rules: 'Transport rule',
  outcome: 'Outcome',
};

function Facts({ m }: { m: TraceMessage }) {
  const rows: Array<[string, ComponentChildren]> = [
    ['Received', <Time t={m.receivedAt} />],
    ['Client', `${m.clientIp}${m.helo !== undefined ? ` (HELO ${m.helo})` : ''}`],
    ['Listener', m.node === undefined ? m.listener : `${m.listener} on node ${m.node}`],
    ['TLS', m.tlsVersion ? `${m.tlsVersion} ${m.tlsCipher ?? ''}` : 'none'],
    ['Certificate', m.certSubject],
    ['SMTP AUTH user', m.authUser],
    ['MAIL FROM', m.mailFrom === undefined ? undefined : m.mailFrom || '<>'],
    ['From', m.headerFrom],
    ['Recipients', m.recipients.join(', ')],
    ['Subject', m.subject],
    ['Message-ID', m.messageId],
    ['Size', m.size === undefined ? undefined : formatBytes(m.size)],
    ['Attribution', m.attribution],
    ['Connector', m.connector ? `${m.connector} (${m.connectorType ?? '?'}, by ${m.connectorMatchedBy ?? '?'})` : undefined],
    ['SPF', m.spf],
    ['DKIM', m.dkim],
    ['DMARC', m.dmarc],
    ['compauth', m.compauth],
    ['Status', m.status],
    ['Reply', m.reply],
    ['Reasons', m.reasons?.join(', ')],
    ['Source', m.source],
  ];
  return (
    <dl class="facts">
      {rows
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

export function TraceMessageView({ show }: { show: TraceShow }) {
  const { message: m, events, explanation } = show;
  return (
    <>
      <h2>What happened</h2>
      <p class="summary">{explanation.summary}</p>
      <ul class="explain">
        {explanation.lines.map((l, i) => (
          <li key={i} class={`tone-${l.tone}`}>
            <span class={`badge tone-${l.tone}`}>{TONE[l.tone] ?? l.tone}</span> <strong>{TOPIC[l.topic] ?? l.topic}:</strong> {l.text}
          </li>
        ))}
      </ul>
      {m.status === 'Quarantined' && (
        <p>
          <a href={href('quarantine', [m.id])}>Open it in the quarantine</a>
        </p>
      )}
      <h2>Timeline</h2>
      <DataTable<TraceEvent>
        caption="Events, oldest first"
        hideCaption
        rows={events}
        rowKey={(_e, i) => i}
        empty="No events recorded."
        columns={[
          { label: 'Time', render: (e) => <Time t={e.at} /> },
          { label: 'Event', render: (e) => <span class="badge">{e.event}</span> },
          { label: 'Recipient', render: (e) => e.recipient ?? '' },
          { label: 'Detail', render: (e) => e.detail ?? '' },
        ]}
      />
      <h2>Details</h2>
      <Facts m={m} />
    </>
  );
}
