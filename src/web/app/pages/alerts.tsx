/**
 * @module web/app/pages/alerts
 * Alerts the gateway raised (new Direct Send sources, queue growth, delivery failures …): open
 * ones by default, acknowledged or all on request; Acknowledge closes one, recorded by the API
 * with the logged-in name (found again later, it is a new alert). Operators and admins only.
 * Touches: GET /api/v1/alerts, POST /api/v1/alerts/:id/ack.
 */
import './mail-pages.css';
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { useApi } from '../hooks.ts';
import { can, type PageProps } from '../pages.ts';
import { DataTable } from '../components/table.tsx';
import { SelectField } from '../components/field.tsx';
import { ErrorMessage, Loading, Notice } from '../components/status.tsx';
import { Time } from '../components/time.tsx';
import { formatCount } from '../format.ts';

interface Alert {
  id: number;
  kind: string;
  state: 'open' | 'acked';
  count: number;
  firstSeen: string;
  lastSeen: string;
  summary: string;
  detail: Record<string, unknown>;
  ackedBy: string | null;
  ackedAt: string | null;
}

const STATES = [
  { value: 'open', label: 'Open' },
  { value: 'acked', label: 'Acknowledged' },
  { value: 'all', label: 'All' },
];

export default function AlertsPage({ session, route }: PageProps) {
  const [state, setState] = useState(route.query.get('state') ?? 'open');
  const { data, error, loading, reload } = useApi<Alert[]>(`/api/v1/alerts?state=${encodeURIComponent(state)}`);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const ack = async (a: Alert): Promise<void> => {
    setBusy(true);
    setActionError(undefined);
    try {
      const r = await api.post<Alert>(`/api/v1/alerts/${a.id}/ack`);
      setNote(`Acknowledged by ${r.ackedBy ?? session.user}: ${r.summary}`);
      reload();
    } catch (e) {
      setActionError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const operate = can(session, 'operate');
  return (
    <section class="mail-page" aria-labelledby="alerts-h">
      <h1 id="alerts-h">Alerts</h1>
      <div class="toolbar">
        <SelectField label="Show" value={state} options={STATES} onChange={setState} />
      </div>
      {note && <Notice>{note}</Notice>}
      <ErrorMessage message={error ?? actionError} />
      {loading && !data ? (
        <Loading />
      ) : (
        <DataTable<Alert>
          caption={`${data?.length ?? 0} ${state === 'all' ? '' : STATES.find((s) => s.value === state)?.label.toLowerCase() ?? ''} alert${data?.length === 1 ? '' : 's'}, newest first`}
          rows={data ?? []}
          rowKey={(a) => a.id}
          empty={state === 'open' ? 'No open alerts.' : 'No alerts.'}
          columns={[
            { label: 'Last seen', render: (a) => <Time t={a.lastSeen} /> },
            { label: 'Kind', render: (a) => <span class="badge">{a.kind}</span> },
            {
              label: 'Summary',
              render: (a) => (
                <>
                  {a.summary}
                  {Object.keys(a.detail).length > 0 && (
                    <details>
                      <summary>Details</summary>
                      <pre>{JSON.stringify(a.detail, null, 2)}</pre>
                    </details>
                  )}
                </>
              ),
            },
            { label: 'Times', numeric: true, render: (a) => formatCount(a.count) },
            { label: 'First seen', render: (a) => <Time t={a.firstSeen} /> },
            {
              label: 'State',
              render: (a) =>
                a.state === 'open' ? (
                  operate ? (
                    <button type="button" disabled={busy} aria-label={`Acknowledge: ${a.summary}`} onClick={() => void ack(a)}>
                      Acknowledge
                    </button>
                  ) : (
                    'open'
                  )
                ) : (
                  <span>
                    acknowledged by {a.ackedBy ?? '?'} <Time t={a.ackedAt} />
                  </span>
                ),
            },
          ]}
        />
      )}
    </section>
  );
}
