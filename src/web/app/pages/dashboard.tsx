/**
 * @module web/app/pages/dashboard
 * The dashboard: what came in over the last hour, day or week by attribution (direct-send,
 * connector, authenticated, anonymous-external) and what was refused by reply code (charts, with
 * the numbers as tables), the Direct Send sources (new ones marked), queue depth and the oldest
 * message's age, delivery failures, open alerts, and the organization's state (RejectDirectSend,
 * rules in Audit). One call: GET /api/v1/dashboard?window=…; refreshed every 30 seconds.
 * Touches: the network through api.ts.
 */
import { useEffect, useMemo } from 'preact/hooks';
import { withQuery } from '../api.ts';
import { TimeChart, type ChartSeries } from '../components/chart.tsx';
import { SelectField } from '../components/field.tsx';
import { ErrorMessage, Loading } from '../components/status.tsx';
import { DataTable } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import { formatCount, formatDuration } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { PageProps } from '../pages.ts';
import { href, navigate } from '../router.ts';

type Range = '1h' | '1d' | '7d';
const RANGES: { value: Range; label: string }[] = [
  { value: '1h', label: 'Last hour' },
  { value: '1d', label: 'Last day' },
  { value: '7d', label: 'Last week' },
];
const ATTRIBUTIONS = [
  ['direct-send', 'Direct Send'],
  ['connector', 'Connector'],
  ['authenticated', 'Authenticated'],
  ['anonymous-external', 'Anonymous external'],
  ['other', 'Other (relay denied, none)'],
] as const;

type Attribution = (typeof ATTRIBUTIONS)[number][0];

export interface DashboardDoc {
  window: { range: Range; since: number; until: number; bucketSeconds: number };
  traffic: { buckets: number[]; byAttribution: Record<Attribution, number[]>; totals: Record<Attribution, number>; refusals: { code: string; counts: number[]; total: number }[] };
  directSend: { sources: { clientIp: string; helo: string | null; mailFrom: string | null; subject: string | null; messages: number; firstSeen: number; lastSeen: number; isNew: boolean }[]; newSources: number };
  queue: { byState: Record<string, number>; open: number; oldestOpenAt: number | null; oldestAgeSeconds: number | null };
  failures: { failed: number; deferred: number; recent: { messageId: string; at: number; recipient: string | null; detail: string | null; mailFrom: string | null; subject: string | null }[] };
  alerts: { open: number; recent: { id: number; kind: string; summary: string; count: number; lastSeen: string }[] };
  org: { name: string; rejectDirectSend: boolean; rulesInAudit: string[]; rulesEnforced: number; configVersion: number | null };
  /** Every node of a fleet; null on a single node. */
  fleet: { node: string; nodes: { name: string; state: 'up' | 'silent'; configVersion: number; configLag: number; queueDepth: number; ageSeconds: number }[] } | null;
}

const REFRESH_MS = 30_000;

function Card({ label, value, detail, id }: { label: string; value: string; detail?: string; id: string }) {
  return (
    <div class="card" data-card={id}>
      <div class="label">{label}</div>
      <div class="value">{value}</div>
      {detail && <div class="muted">{detail}</div>}
    </div>
  );
}

export default function Dashboard({ route }: PageProps) {
  const range = (RANGES.find((r) => r.value === route.query.get('window'))?.value ?? '1h') as Range;
  const { data, error, loading, reload, refresh } = useApi<DashboardDoc>(withQuery('/api/v1/dashboard', { window: range }));
  useEffect(() => {
    const t = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(t);
  }, [refresh]);

  const traffic = useMemo<ChartSeries[]>(() => (data ? ATTRIBUTIONS.filter(([a]) => a !== 'other' || data.traffic.totals.other > 0).map(([a, label]) => ({ label, values: data.traffic.byAttribution[a] })) : []), [data]);
  const refusals = useMemo<ChartSeries[]>(() => (data ? data.traffic.refusals.slice(0, 8).map((r) => ({ label: r.code, values: r.counts })) : []), [data]);

  const bucket = data ? formatDuration(data.window.bucketSeconds * 1000) : '';
  const total = data ? Object.values(data.traffic.totals).reduce((a, b) => a + b, 0) : 0;
  const refused = data ? data.traffic.refusals.reduce((a, r) => a + r.total, 0) : 0;
  return (
    <section aria-labelledby="dash-title">
      <div class="toolbar">
        <h1 id="dash-title">Dashboard</h1>
        <SelectField label="Window" value={range} options={RANGES} onChange={(v) => navigate('dashboard', [], { window: v })} />
        <button type="button" onClick={reload} disabled={loading}>
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <ErrorMessage message={error} />
      {!data ? (
        !error && <Loading />
      ) : (
        <>
          <h2 class="visually-hidden">At a glance</h2>
          <div class="cards">
            <Card id="messages" label="Messages" value={formatCount(total)} detail={`${formatCount(data.traffic.totals['direct-send'])} Direct Send`} />
            <Card id="refused" label="Refused" value={formatCount(refused)} />
            <Card id="queue" label={data.fleet ? `Queue (open), node ${data.fleet.node}` : 'Queue (open)'} value={formatCount(data.queue.open)} detail={data.queue.oldestAgeSeconds === null ? 'empty' : `oldest ${formatDuration(data.queue.oldestAgeSeconds * 1000)}`} />
            <Card id="failures" label="Delivery failures" value={formatCount(data.failures.failed)} detail={`${formatCount(data.failures.deferred)} deferrals`} />
            <Card id="alerts" label="Open alerts" value={formatCount(data.alerts.open)} />
            <Card id="reject-direct-send" label="RejectDirectSend" value={data.org.rejectDirectSend ? 'On' : 'Off'} detail={data.org.rejectDirectSend ? 'Direct Send is refused (550 5.7.68)' : 'Direct Send is accepted'} />
            <Card id="audit-rules" label="Rules in Audit" value={formatCount(data.org.rulesInAudit.length)} detail={`${formatCount(data.org.rulesEnforced)} enforced`} />
          </div>

          <h2>Messages by attribution</h2>
          <TimeChart title={`Messages per ${bucket} by attribution`} x={data.traffic.buckets} series={traffic} />
          <h2>Refusals by reply code</h2>
          <TimeChart title={`Refused transactions per ${bucket} by reply code`} x={data.traffic.buckets} series={refusals} />

          <h2>Direct Send sources</h2>
          <p class="muted">
            Anonymous senders using your domains. {data.directSend.newSources > 0 ? `${data.directSend.newSources} new in this window.` : 'None new in this window.'} The Direct Send page classifies them and migrates each one.
          </p>
          <DataTable
            caption="Direct Send sources in this window"
            hideCaption
            rows={data.directSend.sources}
            rowKey={(s) => s.clientIp}
            empty="No Direct Send in this window."
            columns={[
              { label: 'Address', render: (s) => <a class="nowrap" href={href('trace', [], { ip: s.clientIp })}>{s.clientIp}</a> },
              { label: 'HELO', render: (s) => s.helo ?? '—' },
              { label: 'Sender', render: (s) => s.mailFrom ?? '—' },
              { label: 'Latest subject', render: (s) => s.subject ?? '—' },
              { label: 'Messages', numeric: true, render: (s) => formatCount(s.messages) },
              { label: 'First seen', render: (s) => (
                <>
                  <Time t={s.firstSeen} /> {s.isNew && <span class="badge new">new</span>}
                </>
              ) },
              { label: 'Last seen', render: (s) => <Time t={s.lastSeen} /> },
            ]}
          />

          {data.fleet && (
            <>
              <h2>Nodes</h2>
              <DataTable
                caption="Nodes of the fleet"
                hideCaption
                rows={data.fleet.nodes}
                rowKey={(n) => n.name}
                empty="No node has reported yet."
                columns={[
                  { label: 'Node', render: (n) => n.name },
                  { label: 'State', render: (n) => <span class={n.state === 'up' ? 'badge on' : 'badge off'}>{n.state}</span> },
                  { label: 'Configuration', render: (n) => `version ${n.configVersion}${n.configLag > 0 ? ` (${n.configLag} behind)` : ''}` },
                  { label: 'Queue', numeric: true, render: (n) => formatCount(n.queueDepth) },
                  { label: 'Last heartbeat', render: (n) => `${formatDuration(n.ageSeconds * 1000)} ago` },
                ]}
              />
            </>
          )}

          <h2>{data.fleet ? `Queue on node ${data.fleet.node}` : 'Queue'}</h2>
          <DataTable
            caption="Messages in the queue by state"
            hideCaption
            rows={Object.entries(data.queue.byState).filter(([s]) => s !== 'done' && s !== 'bounced')}
            rowKey={([s]) => s}
            columns={[
              { label: 'State', render: ([s]) => s },
              { label: 'Messages', numeric: true, render: ([, n]) => formatCount(n) },
            ]}
          />

          <h2>Delivery failures</h2>
          <DataTable
            caption="Latest delivery failures"
            hideCaption
            rows={data.failures.recent}
            rowKey={(r, i) => `${r.messageId}-${i}`}
            empty="No delivery failures in this window."
            columns={[
              { label: 'When', render: (r) => <Time t={r.at} /> },
              { label: 'Message', render: (r) => <a href={href('trace', [r.messageId])}>{r.messageId}</a> },
              { label: 'Recipient', render: (r) => r.recipient ?? '—' },
              { label: 'Subject', render: (r) => r.subject ?? '—' },
              { label: 'Reply', render: (r) => r.detail ?? '—' },
            ]}
          />

          <h2>Open alerts</h2>
          <DataTable
            caption="Open alerts"
            hideCaption
            rows={data.alerts.recent}
            rowKey={(a) => a.id}
            empty="No open alerts."
            columns={[
              { label: 'Alert', render: (a) => <a href={href('alerts')}>{a.summary}</a> },
              { label: 'Kind', render: (a) => a.kind },
              { label: 'Seen', numeric: true, render: (a) => formatCount(a.count) },
              { label: 'Last seen', render: (a) => <Time t={a.lastSeen} /> },
            ]}
          />

          <h2>Organization</h2>
          <dl class="facts">
            <dt>Organization</dt>
            <dd>{data.org.name || '—'}</dd>
            <dt>RejectDirectSend</dt>
            <dd>
              <span class={data.org.rejectDirectSend ? 'badge on' : 'badge off'}>{data.org.rejectDirectSend ? 'On' : 'Off'}</span>
            </dd>
            <dt>Rules in Audit mode</dt>
            <dd>{data.org.rulesInAudit.length ? data.org.rulesInAudit.map((n, i) => <span key={n}>{i > 0 && ', '}<a href={href('rules')}>{n}</a></span>) : 'none'}</dd>
            <dt>Configuration version</dt>
            <dd>{data.org.configVersion ?? '—'}</dd>
          </dl>
        </>
      )}
    </section>
  );
}
