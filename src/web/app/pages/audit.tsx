/**
 * @module web/app/pages/audit
 * Audit of an Exchange Online tenant from its own exports: upload an export (message trace CSV,
 * Defender EmailEvents JSON, …; streamed to POST /api/v1/audit/imports as the request body), list
 * the imports, and for one import see its readiness report (every source, class, evidence and
 * Exchange's PowerShell) and the staged plan (GET /api/v1/audit/plan?source=import:NAME), with the
 * plan's PowerShell script as a download (the same text `mailgate audit plan --format ps1`
 * writes). Removing an import needs a confirmation. Uploading and removing need scope admin.
 * Touches: the network through api.ts; a file the user picks (read by the browser).
 */
import { useState } from 'preact/hooks';
import { api, withQuery } from '../api.ts';
import { ConfirmDialog } from '../components/confirm.tsx';
import { SelectField, TextField } from '../components/field.tsx';
import { ErrorMessage, Loading, Notice } from '../components/status.tsx';
import { SourceCards, type DsReport } from '../components/source-cards.tsx';
import { DataTable } from '../components/table.tsx';
import { Time } from '../components/time.tsx';
import '../components/wc.css';
import { useApi } from '../hooks.ts';
import { can, type PageProps } from '../pages.ts';
import { href, navigate } from '../router.ts';

interface Dataset {
  name: string;
  source: string;
  files: { file: string }[];
  kinds: string[];
  rows: number;
  first?: number;
  last?: number;
  tenantDomains: string[];
  importedAt?: number;
}

interface ImportSummary {
  name: string;
  files: { file: string; kind: string; rows: number; inserted: number; duplicates: number; malformed: number }[];
  tenantDomains: string[];
  tenantHow: string;
  directSend: number;
}

interface PlanStage {
  id: string;
  title: string;
  intro: string[];
  commands: string[];
  rollback: string[];
  checkpoint: string[];
}

interface Plan {
  summary: string[];
  rejects: string;
  refusal?: string;
  stages: PlanStage[];
  notes: string[];
}

const UPLOAD_TYPES = new Set(['text/csv', 'application/json']);
const DATE_FORMATS = ['auto', 'mdy', 'dmy', 'iso'];
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const nameOf = (file: string): string => file.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 100) || 'import';

function Upload({ onDone }: { onDone: (s: ImportSummary) => void }) {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [name, setName] = useState('');
  const [domains, setDomains] = useState('');
  const [dateFormat, setDateFormat] = useState('auto');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (): Promise<void> => {
    if (!file) return setError('Choose an export file first.');
    setBusy(true);
    setError(undefined);
    try {
      // The API takes CSV, JSON or bytes; anything else (text/plain, none) goes as bytes and the importer sniffs it.
      const body = UPLOAD_TYPES.has(file.type) ? file : new Blob([file], { type: 'application/octet-stream' });
      const q = { name: name || nameOf(file.name), file: file.name, tenantDomains: domains.replace(/\s+/g, ''), dateFormat };
      onDone(await api.post<ImportSummary>(withQuery('/api/v1/audit/imports', q), body));
      setFile(undefined);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      aria-labelledby="upload-title"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2 id="upload-title">Upload an export</h2>
      <p class="muted">A message trace (Get-MessageTraceV2 | Export-Csv, or the EAC download), a Defender EmailEvents export, or another Exchange Online export mailgate reads.</p>
      <div class="field">
        <label for="audit-file">Export file</label>
        <input
          id="audit-file"
          type="file"
          accept=".csv,.json,.txt,text/csv,application/json"
          onChange={(e) => {
            const f = (e.currentTarget as HTMLInputElement).files?.[0];
            setFile(f);
            if (f && !name) setName(nameOf(f.name));
          }}
        />
      </div>
      <TextField label="Import name" value={name} onInput={setName} hint="letters, digits, . _ -; the rows get source import:NAME" />
      <TextField label="Tenant domains" value={domains} onInput={setDomains} hint="comma separated; default: inferred from inbound recipients" />
      <SelectField label="Date format" value={dateFormat} onChange={setDateFormat} options={DATE_FORMATS.map((d) => ({ value: d, label: d }))} hint="auto, unless the export's dates are ambiguous" />
      <ErrorMessage message={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Uploading…' : 'Upload and import'}
        </button>
      </div>
    </form>
  );
}

function ImportView({ name }: { name: string }) {
  const source = `import:${name}`;
  const report = useApi<DsReport>(withQuery('/api/v1/reports/direct-send', { source }));
  const plan = useApi<Plan>(withQuery('/api/v1/audit/plan', { source }));
  return (
    <section aria-labelledby="import-title">
      <h2 id="import-title">Import {name}</h2>
      <p>
        <a href={withQuery('/api/v1/audit/plan', { source, format: 'ps1' })} download="direct-send-plan.ps1">
          Download the plan's PowerShell
        </a>{' '}
        · <a href={withQuery('/api/v1/audit/plan', { source, format: 'md' })} download="direct-send-plan.md">Markdown</a> ·{' '}
        <a href={href('direct-send', [], { source, since: '90d' })}>on the readiness page</a>
      </p>
      <h3>Readiness report</h3>
      {report.loading && !report.data && <Loading what="Building the report" />}
      <ErrorMessage message={report.error} />
      {report.data && (
        <>
          <ul>
            {report.data.summary.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
          <SourceCards label={`Direct Send sources in ${name}`} sources={report.data.sources} exchange empty="No Direct Send in this import." />
        </>
      )}
      <h3>Staged plan</h3>
      {plan.loading && !plan.data && <Loading what="Building the plan" />}
      <ErrorMessage message={plan.error} />
      {plan.data && (
        <div class="stack plan">
          {plan.data.summary.map((l) => (
            <p key={l}>{l}</p>
          ))}
          {plan.data.refusal && <p class="warn">{plan.data.refusal}</p>}
          <p>{plan.data.rejects}</p>
          {plan.data.stages.map((st, i) => (
            <details key={st.id} open={i === 0}>
              <summary>
                Stage {i + 1}: {st.title}
              </summary>
              {st.intro.map((l) => (
                <p key={l}>{l}</p>
              ))}
              {st.commands.length > 0 && <pre aria-label={`Stage ${i + 1} commands`}>{st.commands.join('\n')}</pre>}
              {st.checkpoint.length > 0 && (
                <ul>
                  {st.checkpoint.map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                </ul>
              )}
              {st.rollback.length > 0 && <pre aria-label={`Stage ${i + 1} rollback`}>{st.rollback.join('\n')}</pre>}
            </details>
          ))}
        </div>
      )}
    </section>
  );
}

export default function AuditPage({ route, session }: PageProps) {
  const selected = route.rest[0];
  const imports = useApi<Dataset[]>('/api/v1/audit/imports');
  const admin = can(session, 'admin');
  const [summary, setSummary] = useState<ImportSummary | undefined>(undefined);
  const [remove, setRemove] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const doRemove = async (): Promise<void> => {
    if (!remove) return;
    setBusy(true);
    try {
      const r = await api.del<{ messages: number }>(`/api/v1/audit/imports/${encodeURIComponent(remove)}`);
      setDone(`Removed import ${remove} (${r.messages} message copies).`);
      setRemove(undefined);
      imports.reload();
      if (selected === remove) navigate('audit');
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      {admin && (
        <Upload
          onDone={(s) => {
            setSummary(s);
            imports.reload();
            navigate('audit', [s.name]);
          }}
        />
      )}
      {summary && (
        <Notice>
          Imported {summary.name}: {summary.files.map((f) => `${f.file} (${f.kind}, ${f.rows} rows, ${f.inserted} new, ${f.duplicates} already there, ${f.malformed} malformed)`).join('; ')}; tenant domains{' '}
          {summary.tenantDomains.join(', ') || 'none'} ({summary.tenantHow}); {summary.directSend} Direct Send.
        </Notice>
      )}
      {done && <Notice>{done}</Notice>}
      <h2>Imports</h2>
      {imports.loading && !imports.data && <Loading />}
      <ErrorMessage message={imports.error} />
      <div class="wc-table">
        <DataTable
          caption="Imported exports"
          hideCaption
          rows={imports.data ?? []}
          rowKey={(d) => d.name}
          empty="No export imported yet."
          columns={[
            { label: 'Name', render: (d) => <a href={href('audit', [d.name])} aria-current={d.name === selected ? 'true' : undefined}>{d.name}</a> },
            { label: 'Files', render: (d) => d.files.map((f) => f.file).join(', ') },
            { label: 'Kinds', render: (d) => d.kinds.join(', ') },
            { label: 'Messages', render: (d) => d.rows, numeric: true },
            { label: 'From', render: (d) => <Time t={d.first} /> },
            { label: 'To', render: (d) => <Time t={d.last} /> },
            { label: 'Tenant domains', render: (d) => d.tenantDomains.join(', ') },
            ...(admin
              ? [
                  {
                    label: 'Actions',
                    render: (d: Dataset) => (
                      <button type="button" onClick={() => (setError(undefined), setRemove(d.name))}>
                        Remove<span class="visually-hidden"> import {d.name}</span>
                      </button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </div>
      {selected && <ImportView key={selected} name={selected} />}
      <ConfirmDialog open={remove !== undefined} title={`Remove import ${remove ?? ''}?`} confirmLabel={`Remove ${remove ?? ''}`} danger busy={busy} error={error} onConfirm={() => void doRemove()} onCancel={() => setRemove(undefined)}>
        <p>Its message copies and report rows leave the trace; the export file itself is not kept by mailgate.</p>
      </ConfirmDialog>
    </section>
  );
}
