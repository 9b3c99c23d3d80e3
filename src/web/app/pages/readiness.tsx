/**
 * @module web/app/pages/readiness
 * Direct Send readiness: every source that sends anonymously with the organization's domains
 * (GET /api/v1/reports/direct-send), with its class, the evidence that decided it and the
 * recommended action. For the gateway's own traffic an admin can "Adopt as connector" (a preview
 * of the connector, the configuration diff and a replay, then a confirmation that saves a new
 * configuration version made on the previewed one and the previewed evidence; new evidence since
 * brings the new preview into the dialog) or "Create user" (an SMTP AUTH account that may
 * send as the source's address only; the password is shown once). Both are offered only where the
 * report recommends them, and the API refuses the rest. For imported Exchange Online data the
 * page shows each source's PowerShell and links the staged plan and its script download.
 * Every value from the trace (addresses, HELO names, subjects) is rendered as text.
 * Touches: the network through api.ts.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, withQuery } from '../api.ts';
import { AdoptPreview, type AdoptPreviewData } from '../components/adopt-preview.tsx';
import { ConfirmDialog } from '../components/confirm.tsx';
import { ErrorMessage, Loading, Notice } from '../components/status.tsx';
import { SourceCards, type DsReport, type DsSource } from '../components/source-cards.tsx';
import { Time } from '../components/time.tsx';
import '../components/wc.css';
import { useApi } from '../hooks.ts';
import { can, type PageProps } from '../pages.ts';
import { href, navigate } from '../router.ts';

const ADOPTABLE = new Set(['connector-ip', 'connector-certificate', 'relay-via-mailgate']);
const WINDOWS = ['7d', '30d', '90d'];
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

type Dialog = { kind: 'adopt'; s: DsSource; preview: AdoptPreviewData } | { kind: 'user'; s: DsSource };

export default function ReadinessPage({ route, session }: PageProps) {
  const since = route.query.get('since') ?? '30d';
  const source = route.query.get('source') ?? 'gateway';
  const report = useApi<DsReport>(withQuery('/api/v1/reports/direct-send', { since, source }));
  const imports = useApi<{ name: string }[]>('/api/v1/audit/imports');
  const connectors = useApi<{ name: string; senderIPAddresses: string[] }[]>('/api/v1/connectors');
  const users = useApi<{ name: string; sendAs: string[] }[]>('/api/v1/users');
  const admin = can(session, 'admin');
  const [dialog, setDialog] = useState<Dialog | undefined>(undefined);
  const [ack, setAck] = useState(false);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [secret, setSecret] = useState<{ name: string; password: string; warnings: string[] } | undefined>(undefined);
  const gateway = source === 'gateway';
  const imported = source.startsWith('import:') ? source.slice('import:'.length) : undefined;
  const ref = (s: DsSource) => ({ clientIp: s.clientIp, sender: s.sender, since });

  const preview = async (s: DsSource): Promise<void> => {
    setBusy(`${s.clientIp} ${s.sender}`);
    setError(undefined);
    setDone(undefined);
    try {
      const p = await api.post<AdoptPreviewData>('/api/v1/readiness/adopt/preview', ref(s));
      setAck(false);
      setDialog({ kind: 'adopt', s, preview: p });
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(undefined);
    }
  };
  const confirm = async (): Promise<void> => {
    if (!dialog) return;
    if (dialog.kind === 'adopt' && dialog.preview.warnings.length > 0 && !ack) {
      setError('Tick the box to confirm you have checked the warnings.');
      return;
    }
    setBusy('dialog');
    setError(undefined);
    setDone(undefined);
    try {
      if (dialog.kind === 'adopt') {
        const { baseVersion, evidence } = dialog.preview;
        const r = await api.post<{ version: number; connector: string }>('/api/v1/readiness/adopt', { ...ref(dialog.s), baseVersion, evidence: evidence.fingerprint, acknowledgeWarnings: ack });
        setDone(`Saved configuration version ${r.version}: connector ${r.connector}. The next message from ${dialog.s.clientIp} is attributed to it.`);
      } else {
        const r = await api.post<{ name: string; password: string; warnings: string[] }>('/api/v1/readiness/users', ref(dialog.s));
        setSecret(r);
      }
      setDialog(undefined);
      report.reload();
      connectors.reload();
      users.reload();
    } catch (e) {
      // New evidence since the preview: the dialog shows the new preview, to check and confirm again.
      const fresh = e instanceof ApiError && e.status === 409 ? (e.problem?.preview as AdoptPreviewData | undefined) : undefined;
      if (dialog.kind === 'adopt' && fresh?.evidence) {
        setAck(false);
        setDialog({ kind: 'adopt', s: dialog.s, preview: fresh });
        setError(`${message(e)}. The preview now shows the new evidence.`);
      } else setError(message(e));
    } finally {
      setBusy(undefined);
    }
  };

  const actions = (s: DsSource) => {
    const who = ` (${s.clientIp} ${s.sender || '<>'})`;
    // A connector by exactly this address exists (adopted earlier): its past messages stay in the report.
    const by = (connectors.data ?? []).find((c) => c.senderIPAddresses.some((x) => x === s.clientIp || x === `${s.clientIp}/32` || x === `${s.clientIp}/128`));
    if (by) return <p class="muted">Connector {by.name} now covers {s.clientIp}.</p>;
    const user = (users.data ?? []).find((u) => u.sendAs.some((a) => a.toLowerCase() === s.sender));
    return (
      <>
        {ADOPTABLE.has(s.action) && (
          <button type="button" onClick={() => void preview(s)} disabled={busy !== undefined}>
            Adopt as connector<span class="visually-hidden">{who}</span>
          </button>
        )}
        {user && <span class="muted">SMTP AUTH user {user.name} may send as {s.sender}.</span>}
        {s.classification === 'device-or-app' && s.sender && !user && (
          <button type="button" onClick={() => (setError(undefined), setDialog({ kind: 'user', s }))} disabled={busy !== undefined}>
            Create user<span class="visually-hidden">{who}</span>
          </button>
        )}
      </>
    );
  };

  return (
    <section aria-labelledby="ds-title">
      <h1 id="ds-title">Direct Send readiness</h1>
      <form class="toolbar" aria-label="Report window and data" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="ds-since">Window</label>
          <select id="ds-since" value={since} onChange={(e) => navigate('direct-send', [], { since: (e.currentTarget as HTMLSelectElement).value, source })}>
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                last {w}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="ds-source">Data</label>
          <select id="ds-source" value={source} onChange={(e) => navigate('direct-send', [], { since, source: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="gateway">this gateway's traffic</option>
            {(imports.data ?? []).map((d) => (
              <option key={d.name} value={`import:${d.name}`}>
                imported: {d.name}
              </option>
            ))}
          </select>
        </div>
        <button type="button" onClick={() => report.reload()}>
          Refresh
        </button>
      </form>
      {imported && (
        <p>
          Imported Exchange Online data: <a href={href('audit', [imported])}>the staged plan for {imported}</a> ·{' '}
          <a href={withQuery('/api/v1/audit/plan', { source, format: 'ps1' })} download="direct-send-plan.ps1">
            Download the plan's PowerShell
          </a>
        </p>
      )}
      {done && <Notice>{done}</Notice>}
      {secret && (
        <div class="notice" role="status">
          <p>
            SMTP AUTH user <strong>{secret.name}</strong> created. Its password is shown this once: <code class="secret">{secret.password}</code>
          </p>
          {secret.warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
          <button type="button" onClick={() => setSecret(undefined)}>
            I have copied the password
          </button>
        </div>
      )}
      {!dialog && <ErrorMessage message={error} />}
      {report.loading && !report.data && <Loading what="Building the readiness report" />}
      <ErrorMessage message={report.error} />
      {report.data && (
        <>
          <ul>
            {[...(report.data.note ? [report.data.note] : []), ...report.data.summary].map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
          <p class="muted">
            Window <Time t={report.data.window.since} /> to <Time t={report.data.window.until} />.
          </p>
          <SourceCards label="Direct Send sources" sources={report.data.sources} exchange={imported !== undefined} actions={gateway && admin ? actions : undefined} empty="No Direct Send in this window." />
        </>
      )}
      <ConfirmDialog
        open={dialog !== undefined}
        title={dialog?.kind === 'adopt' ? `Adopt ${dialog.s.clientIp} as connector ${dialog.preview.connector.name}` : `Create an SMTP AUTH user for ${dialog?.s.sender ?? ''}`}
        confirmLabel={dialog?.kind === 'adopt' ? `Save as configuration version ${dialog.preview.baseVersion + 1}` : 'Create the user'}
        busy={busy === 'dialog'}
        error={dialog ? error : undefined}
        onConfirm={() => void confirm()}
        onCancel={() => (setDialog(undefined), setError(undefined))}
      >
        {dialog?.kind === 'adopt' && (
          <>
            <AdoptPreview p={dialog.preview} />
            {dialog.preview.warnings.length > 0 && (
              <label class="inline">
                <input type="checkbox" checked={ack} onChange={(e) => setAck((e.currentTarget as HTMLInputElement).checked)} />I have checked the warnings: this address is this one device.
              </label>
            )}
          </>
        )}
        {dialog?.kind === 'user' && (
          <p>
            The user {dialog.s.sender} may send as {dialog.s.sender} only, after logging in on the submission listener. A password is generated and shown once. The device then
            stops sending as Direct Send.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
