/**
 * @module web/app/pages/trace
 * Message trace: a search with the CLI's filters (`mailgate trace search`), kept in the address
 * (`#/trace?sender=…`) so a reload or a shared link shows the same result; and one message
 * (`#/trace/ID`): what happened in Exchange admin words (the API's explanation), its facts, and its
 * timeline (RECEIVE, RULE, QUARANTINE, DEFER, DELIVER… with reply texts). Every value is rendered
 * as text: subjects, addresses and HELO names are untrusted.
 * Touches: GET /api/v1/trace, GET /api/v1/trace/:id.
 */
import './mail-pages.css';
import { useState } from 'preact/hooks';
import { withQuery } from '../api.ts';
import { useApi } from '../hooks.ts';
import type { PageProps } from '../pages.ts';
import { href, navigate } from '../router.ts';
import { DataTable } from '../components/table.tsx';
import { SelectField, TextField } from '../components/field.tsx';
import { ErrorMessage, Loading } from '../components/status.tsx';
import { Time } from '../components/time.tsx';
import { formatBytes } from '../format.ts';
import { TraceMessageView } from './trace-message.tsx';
import type { TraceRow, TraceShow } from './trace-types.ts';

// The filters of `mailgate trace search` (GET /api/v1/trace's query); the last ones under "More filters".
const FILTERS = ['since', 'sender', 'recipient', 'status', 'attribution', 'connector', 'clientIp', 'connectorType', 'tls', 'spf', 'dkim', 'dmarc', 'spoofSuspect'] as const;
const MORE: readonly Filter[] = ['connectorType', 'tls', 'spf', 'dkim', 'dmarc', 'spoofSuspect'];
type Filter = (typeof FILTERS)[number];

const opts = (values: readonly string[], any = 'Any'): { value: string; label: string }[] => [{ value: '', label: any }, ...values.map((v) => ({ value: v, label: v }))];
const SINCE = [
  { value: '1h', label: 'Last hour' },
  { value: '1d', label: 'Last day' },
  { value: '2d', label: 'Last 2 days' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: '90d', label: 'Last 90 days' },
];
const STATUSES = ['Received', 'Pending', 'Delivered', 'Failed', 'Quarantined', 'Rejected', 'Deferred'];
const ATTRIBUTIONS = ['direct-send', 'connector', 'authenticated', 'anonymous-external', 'relay-denied'];
const CONNECTOR_TYPES = [
  { value: '', label: 'Any' },
  { value: 'none', label: 'No connector' },
  { value: 'partner', label: 'Partner' },
  { value: 'onpremises', label: 'OnPremises' },
];
const TLS = [{ value: '', label: 'Any' }, { value: 'none', label: 'No TLS' }, ...['1.0', '1.1', '1.2', '1.3'].map((v) => ({ value: v, label: `TLS ${v}` }))];
const SPF = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'];
const DKIM = ['pass', 'fail', 'neutral', 'none', 'policy', 'temperror', 'permerror'];
const DMARC = ['pass', 'fail', 'none', 'temperror', 'permerror'];
const SPOOF = [
  { value: '', label: 'Any' },
  { value: 'true', label: 'SPF, DKIM and DMARC all failed' },
  { value: 'false', label: 'Not suspected' },
];

function Search({ query }: { query: URLSearchParams }) {
  const initial = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Record<Filter, string>;
  if (!initial.since) initial.since = '2d';
  const [form, setForm] = useState(initial);
  const set = (f: Filter) => (v: string) => setForm({ ...form, [f]: v });
  const path = withQuery('/api/v1/trace', { ...initial, limit: 500 });
  const { data, error, loading } = useApi<TraceRow[]>(path);
  return (
    <section class="mail-page" aria-labelledby="trace-h">
      <h1 id="trace-h">Message trace</h1>
      <form
        class="toolbar"
        role="search"
        aria-label="Trace search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('trace', [], form);
        }}
      >
        <SelectField label="Received" value={form.since} options={SINCE} onChange={set('since')} />
        <TextField label="Sender contains" type="search" value={form.sender} onInput={set('sender')} />
        <TextField label="Recipient contains" type="search" value={form.recipient} onInput={set('recipient')} />
        <SelectField label="Status" value={form.status} options={opts(STATUSES)} onChange={set('status')} />
        <SelectField label="Attribution" value={form.attribution} options={opts(ATTRIBUTIONS)} onChange={set('attribution')} />
        <TextField label="Connector (name or none)" value={form.connector} onInput={set('connector')} />
        <TextField label="Client IP or CIDR" value={form.clientIp} onInput={set('clientIp')} />
        <details class="more-filters" open={MORE.some((f) => initial[f] !== '')}>
          <summary>More filters</summary>
          <div class="toolbar">
            <SelectField label="Connector type" value={form.connectorType} options={CONNECTOR_TYPES} onChange={set('connectorType')} />
            <SelectField label="TLS" value={form.tls} options={TLS} onChange={set('tls')} />
            <SelectField label="SPF" value={form.spf} options={opts(SPF)} onChange={set('spf')} />
            <SelectField label="DKIM" value={form.dkim} options={opts(DKIM)} onChange={set('dkim')} />
            <SelectField label="DMARC" value={form.dmarc} options={opts(DMARC)} onChange={set('dmarc')} />
            <SelectField label="Spoof suspect" value={form.spoofSuspect} options={SPOOF} onChange={set('spoofSuspect')} />
          </div>
        </details>
        <div class="actions">
          <button type="submit" class="primary">
            Search
          </button>
        </div>
      </form>
      <ErrorMessage message={error} />
      {loading && !data ? (
        <Loading what="Searching" />
      ) : (
        <DataTable<TraceRow>
          caption={data ? `${data.length === 500 ? 'The newest 500' : data.length} message${data.length === 1 ? '' : 's'} and refusals, newest first` : 'Messages'}
          rows={data ?? []}
          rowKey={(r) => r.id}
          empty="No message matches these filters in this window."
          columns={[
            { label: 'Received', render: (r) => <Time t={r.receivedAt} /> },
            { label: 'Subject', render: (r) => <a href={href('trace', [r.id])}>{r.subject || '(no subject)'}</a> },
            { label: 'Sender', render: (r) => r.mailFrom || r.headerFrom || '<>' },
            { label: 'Recipients', render: (r) => r.recipients.join(', ') },
            { label: 'Client', render: (r) => (r.node === undefined ? r.clientIp : `${r.clientIp} (node ${r.node})`) },
            { label: 'Attribution', render: (r) => (r.attribution ?? '—') + (r.connector ? ` (${r.connector})` : '') },
            { label: 'Status', render: (r) => <span class="badge">{r.status}</span> },
            { label: 'Size', numeric: true, render: (r) => formatBytes(r.size) },
          ]}
        />
      )}
    </section>
  );
}

function Message({ id }: { id: string }) {
  const { data, error, loading, reload } = useApi<TraceShow>(`/api/v1/trace/${encodeURIComponent(id)}`);
  return (
    <section class="mail-page" aria-labelledby="trace-msg-h">
      <p>
        <a href={href('trace')}>← Message trace</a>
      </p>
      <h1 id="trace-msg-h">Message {id}</h1>
      <div class="toolbar">
        <button type="button" onClick={reload} disabled={loading}>
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <ErrorMessage message={error} />
      {loading && !data ? <Loading /> : data ? <TraceMessageView show={data} /> : null}
    </section>
  );
}

export default function TracePage({ route }: PageProps) {
  const id = route.rest[0];
  return id ? <Message id={id} /> : <Search query={route.query} key={route.query.toString()} />;
}
