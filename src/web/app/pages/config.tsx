/**
 * @module web/app/pages/config
 * Configuration: one tab per section (organization, accepted domains, inbound connectors, receive
 * connectors, lists, routes) edited as a form (components/value-editor), and History. An edit is
 * reviewed first (a dry run answers the diff), then saved as a new version made on the version it
 * was loaded from (409 when another change landed since: reload). Validation errors come back with
 * their paths and show beside their fields, and all together above the form. History lists every
 * version (who, when, why, what changed), shows a version's diff and rolls back to one (a new
 * version equal to it) after a confirmation. Editing needs scope admin; others see the form
 * disabled. Users (SMTP AUTH) are not edited here: their hashes never leave the API.
 * Touches: the network through api.ts (GET/PUT /api/v1/config…, POST /api/v1/config/rollback).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { History } from '../components/config-history.tsx';
import { DiffView } from '../components/diff.tsx';
import { ErrorMessage, Loading, Notice } from '../components/status.tsx';
import { Time } from '../components/time.tsx';
import { ValueEditor, type FieldError, type Json } from '../components/value-editor.tsx';
import { useApi } from '../hooks.ts';
import { can, type PageProps } from '../pages.ts';
import { href } from '../router.ts';

const SECTIONS = [
  ['organization', 'Organization'],
  ['acceptedDomains', 'Accepted domains'],
  ['inboundConnectors', 'Inbound connectors'],
  ['receiveConnectors', 'Receive connectors'],
  ['lists', 'Lists'],
  ['routes', 'Routes'],
] as const;

/** New items of a list (the defaults config/schema.ts would fill in, and what must be typed). */
const TEMPLATES: Record<string, Json> = {
  acceptedDomains: { domainName: '', domainType: 'Authoritative' },
  inboundConnectors: { name: '', connectorType: 'Partner', senderIPAddresses: [], senderDomains: ['*'], requireTls: false, restrictDomainsToIPAddresses: false, restrictDomainsToCertificate: false, enabled: true, comment: '' },
  receiveConnectors: { name: '', bind: '127.0.0.1', port: 2525, role: 'mx', requireAuth: false, defaultDeny: false },
  routes: { name: '', domains: [], type: 'smtp', host: '', port: 25 },
};

interface Shown {
  version: number;
  createdAt: number;
  actor: string;
  comment: string;
  config: Record<string, Json>;
}

interface Edited {
  version: number;
  applied: boolean;
  diff: string;
  warnings: string[];
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const fieldErrors = (e: unknown): FieldError[] => (e instanceof ApiError && e.errors ? e.errors : []);

function SectionEditor({ section, title, admin }: { section: string; title: string; admin: boolean }) {
  const shown = useApi<Shown>('/api/v1/config');
  const [draft, setDraft] = useState<Json | undefined>(undefined);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [review, setReview] = useState<Edited | undefined>(undefined);
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const base = shown.data;
  useEffect(() => {
    if (base) setDraft(structuredClone(base.config[section] ?? null));
    setErrors([]);
    setError(undefined);
    setReview(undefined);
  }, [base, section]);
  if (shown.loading && !base) return <Loading />;
  if (shown.error) return <ErrorMessage message={shown.error} />;
  if (!base || draft === undefined) return null;

  const send = async (dryRun: boolean): Promise<void> => {
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    try {
      const r = await api.put<Edited>(`/api/v1/config/sections/${section}`, { value: draft, baseVersion: base.version, dryRun, ...(comment ? { comment } : {}) });
      setErrors([]);
      if (dryRun) setReview(r);
      else {
        setReview(undefined);
        setComment('');
        setSaved(r.applied ? `Saved as configuration version ${r.version}.` : 'Nothing changed.');
        shown.reload();
      }
    } catch (e) {
      setErrors(fieldErrors(e));
      setError(e instanceof ApiError && e.status === 409 ? `${e.message}` : message(e));
      setReview(undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="editor"
      aria-label={`${title} (version ${base.version})`}
      onSubmit={(e) => {
        e.preventDefault();
        void send(true);
      }}
    >
      <p class="muted">
        Version {base.version}, saved <Time t={base.createdAt} /> by {base.actor}
        {base.comment ? ` (${base.comment})` : ''}.
      </p>
      {saved && <Notice>{saved}</Notice>}
      {errors.length > 0 && (
        <div class="errors-summary" role="alert">
          <p class="error">The configuration was not saved: {errors.length === 1 ? 'one value is' : `${errors.length} values are`} not valid.</p>
          <ul>
            {errors.map((e, i) => (
              <li key={i}>
                <code>{e.path}</code>: {e.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      {errors.length === 0 && <ErrorMessage message={error} />}
      {error && errors.length === 0 && (
        <button type="button" onClick={() => shown.reload()}>
          Reload the configuration
        </button>
      )}
      <fieldset disabled={!admin || busy}>
        <legend class="visually-hidden">{title}</legend>
        <ValueEditor value={draft} path={section} label={title} errors={errors} templates={TEMPLATES} onChange={(v) => (setDraft(v), setReview(undefined))} />
      </fieldset>
      {admin && (
        <div class="actions">
          <button type="button" onClick={() => (setDraft(structuredClone(base.config[section] ?? null)), setErrors([]), setError(undefined), setReview(undefined))} disabled={busy}>
            Discard changes
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Review changes
          </button>
        </div>
      )}
      {review && (
        <section aria-labelledby="review-title">
          <h2 id="review-title">Changes to version {base.version}</h2>
          <DiffView diff={review.diff} label={`Changes to ${title}`} />
          {review.warnings.map((w, i) => (
            <p key={i} class="warn">
              {w}
            </p>
          ))}
          {review.diff && (
            <>
              <div class="field">
                <label for="change-comment">Why (recorded in the history)</label>
                <input id="change-comment" type="text" value={comment} maxLength={500} onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)} />
              </div>
              <div class="actions">
                <button type="button" class="primary" onClick={() => void send(false)} disabled={busy}>
                  Save as version {base.version + 1}
                </button>
              </div>
            </>
          )}
        </section>
      )}
    </form>
  );
}

export default function ConfigPage({ route, session }: PageProps) {
  const tab = route.rest[0] ?? 'organization';
  const admin = can(session, 'admin');
  const section = SECTIONS.find(([k]) => k === tab);
  return (
    <section aria-labelledby="config-title">
      <h1 id="config-title">Configuration</h1>
      <nav aria-label="Configuration sections">
        <ul class="tabs">
          {[...SECTIONS, ['history', 'History'] as const].map(([k, label]) => (
            <li key={k}>
              <a href={href('configuration', [k])} aria-current={k === tab ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {!admin && <p class="muted">Read only: changing the configuration needs an admin login.</p>}
      {tab === 'history' ? <History admin={admin} /> : section ? <SectionEditor key={section[0]} section={section[0]} title={section[1]} admin={admin} /> : <ErrorMessage message={`There is no section “${tab}”.`} />}
    </section>
  );
}
