/**
 * @module web/app/pages/quarantine-requests
 * Release requests recipients made from their notification's link: pending ones with approve
 * (releases the message to that recipient only) and deny, each decision recorded by the API with
 * the logged-in name; decided ones on request.
 * Touches: GET /api/v1/quarantine/requests, POST …/:id/approve, POST …/:id/deny.
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { useApi } from '../hooks.ts';
import { href } from '../router.ts';
import { DataTable } from '../components/table.tsx';
import { SelectField } from '../components/field.tsx';
import { ErrorMessage, Notice } from '../components/status.tsx';
import { Time } from '../components/time.tsx';

interface Request {
  id: string;
  queueId: string;
  rcpt: string;
  requestedAt: number;
  state: string;
  decidedBy: string | null;
  decidedAt: number | null;
  approvers: string[];
}

const STATES = [
  { value: 'pending', label: 'Pending' },
  { value: 'approved', label: 'Approved' },
  { value: 'denied', label: 'Denied' },
  { value: 'all', label: 'All' },
];

/** `onDecided`: the held list changed (an approval released a message). */
export function ReleaseRequests({ canDecide, onDecided }: { canDecide: boolean; onDecided?: () => void }) {
  const [state, setState] = useState('pending');
  const { data, error, reload } = useApi<Request[]>(`/api/v1/quarantine/requests?state=${state}`);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const decide = async (r: Request, verb: 'approve' | 'deny'): Promise<void> => {
    setBusy(r.id);
    setActionError(undefined);
    try {
      await api.post(`/api/v1/quarantine/requests/${encodeURIComponent(r.id)}/${verb}`);
      setNote(verb === 'approve' ? `Approved: released to ${r.rcpt}.` : `Denied: the message stays in quarantine.`);
      reload();
      onDecided?.();
    } catch (e) {
      setActionError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <section aria-labelledby="qr-h">
      <h2 id="qr-h">Release requests</h2>
      <div class="toolbar">
        <SelectField label="Show" value={state} options={STATES} onChange={setState} />
      </div>
      {note && <Notice>{note}</Notice>}
      <ErrorMessage message={error ?? actionError} />
      <DataTable<Request>
        caption="Release requests from recipients"
        hideCaption
        rows={data ?? []}
        rowKey={(r) => r.id}
        empty={state === 'pending' ? 'No request waits for a decision.' : 'No requests.'}
        columns={[
          { label: 'Requested', render: (r) => <Time t={r.requestedAt} /> },
          { label: 'Recipient', render: (r) => r.rcpt },
          { label: 'Message', render: (r) => (r.state === 'pending' ? <a href={href('quarantine', [r.queueId])}>{r.queueId}</a> : <a href={href('trace', [r.queueId])}>{r.queueId}</a>) },
          { label: 'State', render: (r) => (r.decidedBy ? `${r.state} by ${r.decidedBy}` : r.state) },
          {
            label: 'Decision',
            render: (r) =>
              r.state === 'pending' && canDecide ? (
                <span class="actions">
                  <button type="button" class="primary" disabled={busy !== undefined} aria-label={`Approve release to ${r.rcpt}`} onClick={() => void decide(r, 'approve')}>
                    Approve
                  </button>
                  <button type="button" disabled={busy !== undefined} aria-label={`Deny release to ${r.rcpt}`} onClick={() => void decide(r, 'deny')}>
                    Deny
                  </button>
                </span>
              ) : (
                '—'
              ),
          },
        ]}
      />
    </section>
  );
}
