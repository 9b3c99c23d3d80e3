/**
 * @module web/app/components/config-history
 * The Configuration page's History tab: every version (who, when, why, what changed), a version's
 * diff against the one before it, and rollback to a version (a new version equal to it) after a
 * confirmation naming what happens. Rollback needs scope admin.
 * Touches: the network through api.ts (GET /api/v1/config/history|diff, POST /api/v1/config/rollback).
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { ConfirmDialog } from './confirm.tsx';
import { DiffView } from './diff.tsx';
import { ErrorMessage, Loading, Notice } from './status.tsx';
import { DataTable } from './table.tsx';
import { Time } from './time.tsx';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

interface HistoryRow {
  version: number;
  createdAt: number;
  actor: string;
  comment: string;
  changes: string;
}

export function History({ admin }: { admin: boolean }) {
  const history = useApi<HistoryRow[]>('/api/v1/config/history?limit=50');
  const [diff, setDiff] = useState<{ version: number; text: string } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [rollback, setRollback] = useState<number | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | undefined>(undefined);
  const rows = history.data ?? [];
  const current = rows[0]?.version;
  const showDiff = async (v: number): Promise<void> => {
    setError(undefined);
    try {
      const d = await api.get<{ diff: string }>(`/api/v1/config/diff?from=${v - 1}&to=${v}`);
      setDiff({ version: v, text: d.diff });
    } catch (e) {
      setError(message(e));
    }
  };
  const doRollback = async (): Promise<void> => {
    if (rollback === undefined) return;
    setBusy(true);
    try {
      const r = await api.post<{ version: number }>('/api/v1/config/rollback', { version: rollback, comment: 'from the console' });
      setDone(`Rolled back: version ${r.version} equals version ${rollback}.`);
      setRollback(undefined);
      setDiff(undefined);
      history.reload();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  if (history.loading && !history.data) return <Loading />;
  return (
    <>
      <ErrorMessage message={history.error} />
      {done && <Notice>{done}</Notice>}
      {!rollback && <ErrorMessage message={error} />}
      <div class="wc-table">
        <DataTable
          caption="Configuration versions, newest first"
          rows={rows}
          rowKey={(r) => r.version}
          columns={[
            { label: 'Version', render: (r) => r.version, numeric: true },
            { label: 'Saved', render: (r) => <Time t={r.createdAt} /> },
            { label: 'By', render: (r) => r.actor },
            { label: 'Why', render: (r) => r.comment },
            { label: 'What changed', render: (r) => r.changes },
            {
              label: 'Actions',
              render: (r) => (
                <div class="stack">
                  {r.version > 1 && (
                    <button type="button" onClick={() => void showDiff(r.version)}>
                      Diff of version {r.version}
                    </button>
                  )}
                  {admin && r.version !== current && (
                    <button type="button" onClick={() => (setError(undefined), setRollback(r.version))}>
                      Roll back to version {r.version}
                    </button>
                  )}
                </div>
              ),
            },
          ]}
        />
      </div>
      {diff && (
        <section aria-labelledby="diff-title">
          <h2 id="diff-title">
            Version {diff.version - 1} → {diff.version}
          </h2>
          <DiffView diff={diff.text} label={`Diff of version ${diff.version}`} />
        </section>
      )}
      <ConfirmDialog
        open={rollback !== undefined}
        title={`Roll back to version ${rollback ?? ''}?`}
        confirmLabel={`Roll back to version ${rollback ?? ''}`}
        danger
        busy={busy}
        error={rollback !== undefined ? error : undefined}
        onConfirm={() => void doRollback()}
        onCancel={() => (setRollback(undefined), setError(undefined))}
      >
        <p>A new version equal to version {rollback} is saved and put in force within a second; the versions after it stay in the history.</p>
      </ConfirmDialog>
    </>
  );
}
