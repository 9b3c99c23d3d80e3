/**
 * @module alerts/rules/state
 * The alert rules read from the gateway's state: queue age and deferred count above their
 * thresholds, certificates about to expire (each listener's certFile, each route's
 * clientCertFile; one alert per file and threshold crossed, 30/7/1 days by default), and allow
 * entries no message used for `staleAllowDays` (trace/reports/stale-allow.ts over a TraceStore: the
 * node's own trace, or the fleet's).
 * Touches: reads certificate files and the trace (through the given store).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { staleAllowReportFrom, type StaleEntry } from '../../trace/reports/stale-allow.ts';
import type { TraceStore } from '../../trace/index.ts';
import type { Candidate, RuleContext } from '../types.ts';

const DAY = 86_400_000;

export function queueThresholds(ctx: RuleContext): Candidate[] {
  const q = ctx.queue;
  if (!q) return [];
  const out: Candidate[] = [];
  const { queueAgeSeconds, deferredCount } = ctx.config.alerts;
  const deferred = q.byState.deferred ?? 0;
  if (deferred >= deferredCount) {
    out.push({ kind: 'deferred-count', key: 'queue', summary: `${deferred} messages deferred (threshold ${deferredCount})`, detail: { deferred, threshold: deferredCount } });
  }
  if (q.oldestOpenAt !== undefined) {
    const age = Math.floor((ctx.now - q.oldestOpenAt) / 1000);
    if (age >= queueAgeSeconds) out.push({ kind: 'queue-age', key: 'queue', summary: `oldest undelivered message is ${age} s old (threshold ${queueAgeSeconds} s)`, detail: { ageSeconds: age, threshold: queueAgeSeconds } });
  }
  return out;
}

/** Not-after of the first certificate in a PEM file; undefined when it cannot be read. */
export function certificateNotAfter(file: string): number | undefined {
  try {
    return Date.parse(new X509Certificate(readFileSync(file)).validTo);
  } catch {
    return undefined;
  }
}

export function certificateExpiry(ctx: RuleContext): Candidate[] {
  const files: Array<{ file: string; owner: string }> = [];
  for (const l of ctx.config.receiveConnectors) if (l.tls.certFile) files.push({ file: l.tls.certFile, owner: `listener ${l.name}` });
  for (const r of ctx.config.routes) if ('clientCertFile' in r && r.clientCertFile) files.push({ file: r.clientCertFile, owner: `route ${r.name}` });
  const thresholds = [...ctx.config.alerts.certExpiryDays].sort((a, b) => a - b);
  const out: Candidate[] = [];
  for (const { file, owner } of files) {
    const notAfter = certificateNotAfter(file);
    if (notAfter === undefined) continue;
    const left = (notAfter - ctx.now) / DAY;
    const crossed = thresholds.find((d) => left <= d);
    if (crossed === undefined) continue;
    const when = new Date(notAfter).toISOString();
    out.push({
      kind: 'cert-expiry',
      key: `${file}:${crossed}`,
      summary: left <= 0 ? `certificate of ${owner} (${file}) expired ${when}` : `certificate of ${owner} (${file}) expires ${when}, within ${crossed} days`,
      detail: { file, owner, notAfter: when, daysLeft: Math.floor(left), threshold: crossed },
    });
  }
  return out;
}

function staleWindow(ctx: RuleContext): { since: number; until: number; requested: number; clamped: boolean; retentionDays: number } {
  const since = ctx.now - ctx.config.alerts.staleAllowDays * DAY;
  return { since, until: ctx.now, requested: since, clamped: false, retentionDays: ctx.config.trace.retentionDays };
}

const staleInput = (ctx: RuleContext): { connectors: RuleContext['config']['inboundConnectors']; allow: RuleContext['config']['lists']['allow'] } => ({
  connectors: ctx.config.inboundConnectors,
  allow: ctx.config.lists.allow,
});

function staleCandidates(ctx: RuleContext, entries: readonly StaleEntry[]): Candidate[] {
  return entries
    .filter((e) => e.kind === 'allow-ip' || e.kind === 'allow-domain')
    .map((e) => ({
      kind: 'stale-allow' as const,
      key: `${e.kind}:${e.entry}`,
      summary: `allow entry ${e.entry} (${e.kind}) matched no message in ${ctx.config.alerts.staleAllowDays} days`,
      detail: { entry: e.entry, entryKind: e.kind, days: ctx.config.alerts.staleAllowDays },
    }));
}

export async function staleAllowEntries(ctx: RuleContext, trace: TraceStore): Promise<Candidate[]> {
  return staleCandidates(ctx, (await staleAllowReportFrom(trace, staleWindow(ctx), staleInput(ctx))).entries);
}
