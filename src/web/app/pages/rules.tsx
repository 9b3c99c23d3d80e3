/**
 * @module web/app/pages/rules
 * Transport rules (Exchange's mail flow rules): each with its state, mode and what it matched in
 * the last 7 days — hits in Enforce, and in Audit what it *would have* done. Enable/disable, and
 * the switch from Audit to Enforce behind a confirmation that shows last week's would-have hits
 * and the latest of those messages, so the admin sees what Enforce starts doing before it does.
 * Changes need the admin scope; each is a configuration version recorded with the logged-in name.
 * Touches: GET /api/v1/rules, /api/v1/rules/hits, /api/v1/rules/:name/would-have; PATCH
 * /api/v1/rules/:name; POST /api/v1/rules/:name/enable|disable.
 */
import './mail-pages.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { useApi } from '../hooks.ts';
import { can, type PageProps } from '../pages.ts';
import { href } from '../router.ts';
import { ConfirmDialog } from '../components/confirm.tsx';
import { DataTable } from '../components/table.tsx';
import { ErrorMessage, Loading, Notice } from '../components/status.tsx';
import { Time } from '../components/time.tsx';
import { formatCount } from '../format.ts';

interface RuleRow {
  priority: number;
  name: string;
  state: string;
  mode: string;
  conditions: string;
  exceptions: string;
  actions: string;
  stop: boolean;
}

interface Hits {
  rules: Array<{ name: string; enforced: number; wouldHave: number; wouldHaveActions: string[]; lastHit: string | null; configured: boolean }>;
}

interface WouldHave {
  rule: string;
  since: string;
  wouldHave: number;
  actions: string[];
  messages: Array<{ id: string; at: number; clientIp: string; mailFrom: string; headerFrom: string; subject: string }>;
}

const msg = (e: unknown): string => (e instanceof ApiError || e instanceof Error ? e.message : String(e));
const enc = encodeURIComponent;
const isAudit = (mode: string): boolean => mode === 'Audit' || mode === 'AuditAndNotify';

function EnforceConfirm({ rule, onDone, onCancel }: { rule: string; onDone: (text: string) => void; onCancel: () => void }) {
  const { data, error, loading } = useApi<WouldHave>(`/api/v1/rules/${enc(rule)}/would-have?since=7d&limit=10`);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const confirm = async (): Promise<void> => {
    setBusy(true);
    setActionError(undefined);
    try {
      const r = await api.patch<{ version: number }>(`/api/v1/rules/${enc(rule)}`, { mode: 'Enforce' });
      onDone(`"${rule}" is in Enforce from configuration version ${r.version}.`);
    } catch (e) {
      setActionError(msg(e));
      setBusy(false);
    }
  };
  const n = data?.wouldHave ?? 0;
  // The dialog opens once the count is in: Cancel takes focus then (a disabled button cannot).
  if (loading && !data && !error) return <Loading what={`Counting last week's would-have hits of "${rule}"`} />;
  return (
    <ConfirmDialog
      open
      title={`Switch "${rule}" to Enforce?`}
      confirmLabel="Switch to Enforce"
      danger
      busy={busy}
      error={actionError ?? (error ? `Last week's hits could not be counted (${error}); the rule stays in Audit.` : undefined)}
      onConfirm={() => (error ? setActionError(`Without last week's hits there is nothing to confirm: ${error}`) : void confirm())}
      onCancel={onCancel}
    >
      {error ? null : (
        <>
          <p class="would-have">
            {n === 0 ? (
              'In the last 7 days this rule matched no message: there is nothing to check, and in Enforce it acts on the next message it matches.'
            ) : (
              <>
                In the last 7 days this rule would have run <strong>{data?.actions.length ? data.actions.join(', ') : 'its actions'}</strong> on <strong>{formatCount(n)}</strong> message{n === 1 ? '' : 's'}. From now on it will do so.
              </>
            )}
          </p>
          {data && data.messages.length > 0 && (
            <DataTable<WouldHave['messages'][number]>
              caption={`The latest ${data.messages.length} of them`}
              rows={data.messages}
              rowKey={(m) => m.id}
              columns={[
                { label: 'Time', render: (m) => <Time t={m.at} /> },
                { label: 'Sender', render: (m) => m.headerFrom || m.mailFrom || '<>' },
                { label: 'Subject', render: (m) => <a href={href('trace', [m.id])}>{m.subject || '(no subject)'}</a> },
                { label: 'Client', render: (m) => m.clientIp },
              ]}
            />
          )}
        </>
      )}
    </ConfirmDialog>
  );
}

export default function RulesPage({ session }: PageProps) {
  const rules = useApi<RuleRow[]>('/api/v1/rules');
  const hits = useApi<Hits>('/api/v1/rules/hits?since=7d');
  const [enforcing, setEnforcing] = useState<string | undefined>(undefined);
  // The confirmation unmounts when it ends (no native close()): give focus back to its opener.
  const opener = useRef<HTMLElement | null>(null);
  useEffect(() => {
    if (enforcing === undefined && opener.current?.isConnected) opener.current.focus();
  }, [enforcing]);
  const [note, setNote] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const admin = can(session, 'admin');
  const reload = (): void => {
    rules.reload();
    hits.reload();
  };
  const change = async (label: string, run: () => Promise<{ version: number }>): Promise<void> => {
    setBusy(true);
    setActionError(undefined);
    try {
      const r = await run();
      setNote(`${label} (configuration version ${r.version}).`);
      reload();
    } catch (e) {
      setActionError(msg(e));
    } finally {
      setBusy(false);
    }
  };
  const hitOf = (name: string) => hits.data?.rules.find((h) => h.name === name);
  const removed = hits.data?.rules.filter((h) => !h.configured) ?? [];
  return (
    <section class="mail-page" aria-labelledby="rules-h">
      <h1 id="rules-h">Transport rules</h1>
      <p class="muted">Rules run in priority order. A rule in Audit mode only records what it would have done: check its would-have hits, then switch it to Enforce.</p>
      {note && <Notice>{note}</Notice>}
      <ErrorMessage message={rules.error ?? hits.error ?? actionError} />
      {rules.loading && !rules.data ? (
        <Loading />
      ) : (
        <DataTable<RuleRow>
          caption="Rules, with their hits in the last 7 days"
          rows={rules.data ?? []}
          rowKey={(r) => r.name}
          empty="No transport rules. Add one with `mailgate rule add` (for Direct Send: --template direct-send-quarantine)."
          columns={[
            { label: 'Priority', numeric: true, render: (r) => r.priority },
            { label: 'Name', render: (r) => r.name },
            { label: 'State', render: (r) => <span class={`badge ${r.state === 'Enabled' ? 'on' : 'off'}`}>{r.state}</span> },
            { label: 'Mode', render: (r) => <span class="badge">{r.mode}</span> },
            { label: 'Conditions', render: (r) => [r.conditions || 'every message', r.exceptions ? `except ${r.exceptions}` : ''].filter(Boolean).join('; ') },
            { label: 'Actions', render: (r) => r.actions + (r.stop ? '; then stop' : '') },
            { label: 'Hits (Enforce)', numeric: true, render: (r) => formatCount(hitOf(r.name)?.enforced ?? 0) },
            {
              label: 'Would have (Audit)',
              numeric: true,
              render: (r) => {
                const h = hitOf(r.name);
                return h && h.wouldHave > 0 ? `${formatCount(h.wouldHave)} would have ${h.wouldHaveActions.join(', ') || 'matched'}` : '0';
              },
            },
            {
              label: 'Change',
              render: (r) =>
                admin ? (
                  <span class="actions">
                    {isAudit(r.mode) && (
                      <button type="button" class="primary" disabled={busy} onClick={(e) => ((opener.current = e.currentTarget), setNote(undefined), setEnforcing(r.name))}>
                        Switch to Enforce<span class="visually-hidden"> rule {r.name}</span>…
                      </button>
                    )}
                    {r.mode === 'Enforce' && (
                      <button type="button" disabled={busy} onClick={() => void change(`"${r.name}" is in Audit`, () => api.patch(`/api/v1/rules/${enc(r.name)}`, { mode: 'Audit' }))}>
                        Switch to Audit<span class="visually-hidden"> rule {r.name}</span>
                      </button>
                    )}
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => void change(`"${r.name}" ${r.state === 'Enabled' ? 'disabled' : 'enabled'}`, () => api.post(`/api/v1/rules/${enc(r.name)}/${r.state === 'Enabled' ? 'disable' : 'enable'}`))}
                    >
                      {r.state === 'Enabled' ? 'Disable' : 'Enable'}
                      <span class="visually-hidden"> rule {r.name}</span>
                    </button>
                  </span>
                ) : (
                  '—'
                ),
            },
          ]}
        />
      )}
      {removed.length > 0 && (
        <p class="muted">
          Hits of rules no longer configured: {removed.map((h) => `${h.name} (${h.enforced + h.wouldHave})`).join(', ')}.
        </p>
      )}
      {enforcing && (
        <EnforceConfirm
          rule={enforcing}
          onCancel={() => setEnforcing(undefined)}
          onDone={(text) => {
            setEnforcing(undefined);
            setNote(text);
            reload();
          }}
        />
      )}
    </section>
  );
}
