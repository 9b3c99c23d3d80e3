/**
 * @module web/app/components/source-cards
 * Direct Send sources (the readiness report's rows) as one card each rather than a table row:
 * a source carries a paragraph of evidence, warnings and a command, which a table squeezes into
 * unreadable columns on a phone. Each card is an `<article>` named by its heading (client IP and
 * sender), with the class as a labelled badge (text, not colour alone), the facts, the evidence
 * that decided the class, the recommendation and the page's actions. Everything from the trace
 * (addresses, HELO names, subjects) is text.
 * Touches: nothing.
 */
import type { ComponentChildren } from 'preact';
import { formatCount } from '../format.ts';
import { Time } from './time.tsx';
import './wc.css';

export interface DsSource {
  clientIp: string;
  sender: string;
  messages: number;
  rejected: number;
  firstSeen: string;
  lastSeen: string;
  heloNames: string[];
  sampleSubjects: string[];
  tls: string;
  spf: string;
  spfAuthorised: string;
  dkimPassRate: string;
  dmarc: string;
  classification: string;
  reason: string;
  signals: string[];
  warnings: string[];
  action: string;
  recommendation: string;
  powershell: string;
}

/** The readiness report as GET /api/v1/reports/direct-send answers it. */
export interface DsReport {
  summary: string[];
  note?: string;
  window: { since: string; until: string };
  sources: DsSource[];
}

export function ClassBadge({ c }: { c: string }) {
  return <span class={`badge class-${c}`}>{c}</span>;
}

export interface SourceCardsProps {
  label: string;
  sources: readonly DsSource[];
  /** Show Exchange Online's PowerShell instead of the mailgate command. */
  exchange?: boolean;
  actions?: (s: DsSource) => ComponentChildren;
  empty: string;
}

export function SourceCards({ label, sources, exchange, actions, empty }: SourceCardsProps) {
  if (sources.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ul class="source-cards" aria-label={label}>
      {sources.map((s) => {
        const title = `${s.clientIp} ${s.sender || '<>'}`;
        return (
          <li key={title}>
            <article class="source-card" aria-label={title}>
              <h3>
                <span class="ip">{s.clientIp}</span> <span class="sender">{s.sender || '<>'}</span> <ClassBadge c={s.classification} />
              </h3>
              <dl class="facts">
                <dt>Messages</dt>
                <dd>
                  {formatCount(s.messages)}
                  {s.rejected ? ` (${formatCount(s.rejected)} refused by RejectDirectSend)` : ''}
                </dd>
                <dt>Seen</dt>
                <dd>
                  <Time t={s.firstSeen} /> to <Time t={s.lastSeen} />
                </dd>
                <dt>Why {s.classification}</dt>
                <dd>
                  {s.reason}
                  {s.signals.length > 0 && (
                    <ul class="plain muted">
                      {s.signals.map((x) => (
                        <li key={x}>{x}</li>
                      ))}
                    </ul>
                  )}
                </dd>
                <dt>Recorded</dt>
                <dd>
                  SPF {s.spf}; organization's SPF {s.spfAuthorised}; DKIM pass {s.dkimPassRate}; DMARC {s.dmarc}; TLS {s.tls}
                </dd>
                {s.heloNames.length > 0 && (
                  <>
                    <dt>HELO</dt>
                    <dd>{s.heloNames.join(', ')}</dd>
                  </>
                )}
                {s.sampleSubjects.length > 0 && (
                  <>
                    <dt>Subjects</dt>
                    <dd>
                      <ul class="plain">
                        {s.sampleSubjects.map((x) => (
                          <li key={x}>Subject: {x}</li>
                        ))}
                      </ul>
                    </dd>
                  </>
                )}
                <dt>Recommended</dt>
                <dd>
                  {s.action}
                  <pre class="command">{exchange ? s.powershell : s.recommendation}</pre>
                </dd>
              </dl>
              {s.warnings.map((w) => (
                <p key={w} class="warn">
                  Warning: {w}
                </p>
              ))}
              {actions && <div class="card-actions">{actions(s)}</div>}
            </article>
          </li>
        );
      })}
    </ul>
  );
}
