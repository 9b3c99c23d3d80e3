/**
 * @module web/app/components/adopt-preview
 * What "Adopt as connector" would do, as POST /api/v1/readiness/adopt/preview answers it: the
 * connector (by the one address seen, or the verified certificate), the configuration diff, the
 * replay of the last days under the candidate (messages it would attribute to the connector, and
 * any transaction it would let through or newly reject), and the source's warnings. Text only.
 * Touches: nothing.
 */
import { DiffView } from './diff.tsx';
import { Time } from './time.tsx';
import { DataTable } from './table.tsx';
import './wc.css';

export interface ReplayChange {
  clientIp: string;
  sender: string;
  change: string;
  messages: number;
  attributionNow: string;
  attributionCandidate: string;
  reply: string;
  samples: string[];
}

export interface AdoptPreviewData {
  baseVersion: number;
  /** What the candidate was built from; the confirmation sends `fingerprint` back. */
  evidence: { fingerprint: string; classification: string; action: string; certCn: string; messages: number; lastSeen: string };
  source: { clientIp: string; sender: string; classification: string; reason: string; action: string; recommendation: string };
  connector: { name: string; connectorType: string; senderIPAddresses: string[]; senderDomains: string[]; tlsSenderCertificateName?: string; requireTls: boolean };
  diff: string;
  warnings: string[];
  replay: {
    since: string;
    until: string;
    replayed: number;
    summary: string[];
    changes: ReplayChange[];
    attribution: { messages: number; toConnector: number; now: Record<string, number>; samples: string[]; truncated: boolean };
  };
}

export function AdoptPreview({ p }: { p: AdoptPreviewData }) {
  const c = p.connector;
  const a = p.replay.attribution;
  const days = Math.max(1, Math.round((Date.parse(p.replay.until) - Date.parse(p.replay.since)) / 86_400_000));
  const now = Object.entries(a.now).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
  return (
    <div class="stack">
      <dl class="facts">
        <dt>Connector</dt>
        <dd>{c.name}</dd>
        <dt>Type</dt>
        <dd>{c.connectorType}</dd>
        <dt>Matched by</dt>
        <dd>{c.tlsSenderCertificateName ? `verified client certificate ${c.tlsSenderCertificateName} (TLS required)` : `IP ${c.senderIPAddresses.join(', ')}`}</dd>
        <dt>Sender domains</dt>
        <dd>{c.senderDomains.join(', ')}</dd>
        <dt>Why</dt>
        <dd>
          {p.source.classification}: {p.source.reason}
        </dd>
        <dt>Evidence</dt>
        <dd>
          {p.evidence.messages} message{p.evidence.messages === 1 ? '' : 's'} in the report's window, the last <Time t={p.evidence.lastSeen} />
        </dd>
      </dl>
      <h3>Replay of the last {days} days</h3>
      <p>
        Of the source's {a.messages} message{a.messages === 1 ? '' : 's'} (now: {now}), {a.toConnector} would be attributed to {c.name}
        {a.truncated ? ' (count cut at the replay limit)' : ''}.
      </p>
      {a.samples.length > 0 && (
        <ul class="plain muted">
          {a.samples.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ul>
      )}
      {p.replay.summary.map((s, i) => (
        <p key={i} class="muted">
          {s}
        </p>
      ))}
      {p.replay.changes.length > 0 && (
        <div class="wc-table">
          <DataTable
            caption="Transactions whose outcome changes"
            rows={p.replay.changes}
            rowKey={(r, i) => `${r.change}-${r.clientIp}-${r.sender}-${i}`}
            columns={[
              { label: 'Change', render: (r) => r.change },
              { label: 'Client IP', render: (r) => r.clientIp },
              { label: 'Sender', render: (r) => r.sender || '<>' },
              { label: 'Messages', render: (r) => r.messages, numeric: true },
              { label: 'Now → candidate', render: (r) => `${r.attributionNow || '(connection)'} → ${r.attributionCandidate || '(connection)'}` },
              { label: 'Reply', render: (r) => r.reply },
            ]}
          />
        </div>
      )}
      <h3>Configuration change</h3>
      <DiffView diff={p.diff} label={`Configuration change adding ${c.name}`} />
      {p.warnings.map((w, i) => (
        <p key={i} class="warn">
          Warning: {w}
        </p>
      ))}
    </div>
  );
}
