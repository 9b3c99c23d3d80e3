/**
 * @module web/app/pages/quarantine
 * The quarantine (Exchange's quarantine page): held messages with why they are held, a message's
 * safe preview (`#/quarantine/ID`: header lines and text as plain text, attachments listed by
 * name, type and size and never opened or rendered), release and delete behind a confirmation
 * (recorded by the API with the logged-in name), and the recipients' release requests to approve
 * or deny. Buttons an operator's scope cannot use are not shown.
 * Touches: GET/POST/DELETE /api/v1/quarantine…, /api/v1/quarantine/requests….
 */
import './mail-pages.css';
import { useState } from 'preact/hooks';
import { api, ApiError, withQuery } from '../api.ts';
import { useApi } from '../hooks.ts';
import { can, type PageProps } from '../pages.ts';
import { href, navigate } from '../router.ts';
import { ConfirmDialog } from '../components/confirm.tsx';
import { DataTable } from '../components/table.tsx';
import { SelectField, TextField } from '../components/field.tsx';
import { ErrorMessage, Loading, Notice } from '../components/status.tsx';
import { Time } from '../components/time.tsx';
import { formatBytes } from '../format.ts';
import { ReleaseRequests } from './quarantine-requests.tsx';

interface Item {
  id: string;
  receivedAt: number;
  expiresAt: number;
  reason: { kind: string; rule?: string; text: string };
  mailFrom: string;
  headerFrom: string;
  subject: string;
  recipients: string[];
  attribution: string;
  auth: { spf: string; dkim: string; dmarc: string; compauth: string };
  size: number;
}

interface Shown extends Item {
  preview: { headers: string; text: string; textSource: string; attachments: Array<{ name: string; type: string; size: number }> };
}

const msg = (e: unknown): string => (e instanceof ApiError || e instanceof Error ? e.message : String(e));

const REASONS = [
  { value: '', label: 'Any' },
  { value: 'rule', label: 'Transport rule' },
  { value: 'dmarc', label: 'DMARC policy' },
  { value: 'admin', label: 'Held by an admin' },
  { value: 'malware', label: 'Malware' },
];

function List({ session, route }: PageProps) {
  // The list's filters live in the address (#/quarantine?reason=rule&recipient=…), as the trace's do.
  const initial = { reason: route.query.get('reason') ?? '', recipient: route.query.get('recipient') ?? '' };
  const [form, setForm] = useState(initial);
  const { data, error, loading, reload } = useApi<Item[]>(withQuery('/api/v1/quarantine', { ...initial, limit: 1000 }));
  return (
    <section class="mail-page" aria-labelledby="q-h">
      <h1 id="q-h">Quarantine</h1>
      <form
        class="toolbar"
        role="search"
        aria-label="Quarantine filter"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('quarantine', [], form);
        }}
      >
        <SelectField label="Why held" value={form.reason} options={REASONS} onChange={(v) => setForm({ ...form, reason: v })} />
        <TextField label="Held for (address)" type="search" value={form.recipient} onInput={(v) => setForm({ ...form, recipient: v })} />
        <button type="submit">Filter</button>
        <button type="button" onClick={reload} disabled={loading}>
          Refresh
        </button>
      </form>
      <ErrorMessage message={error} />
      {loading && !data ? (
        <Loading />
      ) : (
        <DataTable<Item>
          caption={`${data?.length ?? 0} held message${data?.length === 1 ? '' : 's'}, oldest first`}
          rows={data ?? []}
          rowKey={(r) => r.id}
          empty="The quarantine is empty."
          columns={[
            { label: 'Received', render: (r) => <Time t={r.receivedAt} /> },
            { label: 'Subject', render: (r) => <a href={href('quarantine', [r.id])}>{r.subject || '(no subject)'}</a> },
            { label: 'Sender', render: (r) => r.headerFrom || r.mailFrom || '<>' },
            { label: 'Held for', render: (r) => r.recipients.join(', ') },
            { label: 'Why', render: (r) => r.reason.text },
            { label: 'Expires', render: (r) => <Time t={r.expiresAt} /> },
          ]}
        />
      )}
      <ReleaseRequests canDecide={can(session, 'operate')} onDecided={reload} />
    </section>
  );
}

type Action = 'release' | 'delete';

function Preview({ id, session }: { id: string } & PageProps) {
  const { data, error, loading } = useApi<Shown>(`/api/v1/quarantine/${encodeURIComponent(id)}`);
  const [action, setAction] = useState<Action | undefined>(undefined);
  const [why, setWhy] = useState('');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const run = async (): Promise<void> => {
    setBusy(true);
    setActionError(undefined);
    try {
      const path = `/api/v1/quarantine/${encodeURIComponent(id)}`;
      if (action === 'release') {
        const r = await api.post<{ released: Array<{ rcpt: string }> }>(`${path}/release`, why ? { why } : {});
        setDone(`Released to ${r.released.map((x) => x.rcpt).join(', ')}: it is queued for delivery.`);
      } else {
        await api.del(`${path}${why ? `?why=${encodeURIComponent(why)}` : ''}`);
        setDone('Deleted for good.');
      }
      setAction(undefined);
    } catch (e) {
      setActionError(msg(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="mail-page" aria-labelledby="qm-h">
      <p>
        <a href={href('quarantine')}>← Quarantine</a>
      </p>
      <h1 id="qm-h">Quarantined message {id}</h1>
      {done ? (
        <>
          <Notice>{done}</Notice>
          <p>
            <a href={href('trace', [id])}>Follow it in the message trace</a>
          </p>
        </>
      ) : (
        <>
          <ErrorMessage message={error} />
          {loading && !data ? <Loading /> : null}
        </>
      )}
      {data && !done && (
        <>
          <dl class="facts">
            <div>
              <dt>Why held</dt>
              <dd>{data.reason.text}</dd>
            </div>
            <div>
              <dt>From</dt>
              <dd>{data.headerFrom || '—'}</dd>
            </div>
            <div>
              <dt>MAIL FROM</dt>
              <dd>{data.mailFrom || '<>'}</dd>
            </div>
            <div>
              <dt>Held for</dt>
              <dd>{data.recipients.join(', ')}</dd>
            </div>
            <div>
              <dt>Subject</dt>
              <dd>{data.subject || '(no subject)'}</dd>
            </div>
            <div>
              <dt>Attribution</dt>
              <dd>{data.attribution || '—'}</dd>
            </div>
            <div>
              <dt>SPF / DKIM / DMARC</dt>
              <dd>{[data.auth.spf, data.auth.dkim, data.auth.dmarc].map((x) => x || '—').join(' · ')}</dd>
            </div>
            <div>
              <dt>Received / expires</dt>
              <dd>
                <Time t={data.receivedAt} /> / <Time t={data.expiresAt} />
              </dd>
            </div>
          </dl>
          {can(session, 'operate') && (
            <div class="actions">
              <button type="button" class="primary" onClick={() => (setWhy(''), setActionError(undefined), setAction('release'))}>
                Release…
              </button>
              <button type="button" class="danger" onClick={() => (setWhy(''), setActionError(undefined), setAction('delete'))}>
                Delete…
              </button>
              <a href={`/api/v1/quarantine/${encodeURIComponent(id)}/export`} download={`${id}.eml`}>
                Download .eml
              </a>
            </div>
          )}
          <h2>Text</h2>
          <p class="muted">{data.preview.textSource === 'none' ? 'The message has no text part.' : `From its ${data.preview.textSource} part, as plain text; links are not clickable.`}</p>
          <pre class="preview">{data.preview.text}</pre>
          <h2>Attachments</h2>
          <DataTable<Shown['preview']['attachments'][number]>
            caption="Attachments (listed only, never opened)"
            rows={data.preview.attachments}
            rowKey={(_a, i) => i}
            empty="No attachments."
            columns={[
              { label: 'Name', render: (a) => a.name || '(unnamed)' },
              { label: 'Type', render: (a) => a.type },
              { label: 'Size', numeric: true, render: (a) => formatBytes(a.size) },
            ]}
          />
          <h2>Header</h2>
          <pre class="preview">{data.preview.headers}</pre>
        </>
      )}
      <ConfirmDialog
        open={action !== undefined}
        title={action === 'release' ? 'Release this message?' : 'Delete this message?'}
        confirmLabel={action === 'release' ? `Release to ${data?.recipients.length ?? 0} recipient${data?.recipients.length === 1 ? '' : 's'}` : 'Delete for good'}
        danger={action === 'delete'}
        busy={busy}
        error={actionError}
        onConfirm={() => void run()}
        onCancel={() => setAction(undefined)}
      >
        <p>
          {action === 'release'
            ? `It will be delivered to ${data?.recipients.join(', ') ?? ''}. Release only mail you have checked: this is how a phishing message reaches an inbox.`
            : 'It cannot be brought back.'}
        </p>
        <TextField label="Why (recorded with your name)" value={why} onInput={setWhy} />
      </ConfirmDialog>
    </section>
  );
}

export default function QuarantinePage(props: PageProps) {
  const id = props.route.rest[0];
  return id ? <Preview {...props} id={id} key={id} /> : <List {...props} key={props.route.query.toString()} />;
}
