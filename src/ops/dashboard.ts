/**
 * @module ops/dashboard
 * The web console's dashboard in one read: traffic per time bucket by attribution and refusals
 * by reply code (trace/reports/dashboard), the window's Direct Send sources (new ones marked),
 * queue depth and the oldest open message's age (ops/queue), delivery failures and deferrals,
 * open alerts (ops/alerts), and the organization's state: RejectDirectSend on or off and which
 * enabled transport rules run in an Audit mode (Audit, AuditAndNotify) (configuration in force). Windows end at the next bucket
 * boundary so buckets line up: 1h in 1-minute buckets, 1d in 15-minute, 7d in 2-hour.
 * Traffic, sources and failures come from ctx.trace (on a fleet node the shared trace, every
 * node's); alerts from ctx.alerts (on a fleet the fleet's store); the queue stays this node's.
 * Touches: reads the trace, queue and alert tables and the configuration store.
 */
import { dashboardFrom, type DirectSendSourceRow, type FailureRow, type TrafficSeries } from '../trace/reports/index.ts';
import type { QueueState } from '../queue/index.ts';
import { listAlerts } from './alerts.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { listNodes, type NodeRow } from './nodes.ts';
import { queueSummary } from './queue.ts';

export const DASHBOARD_RANGES = ['1h', '1d', '7d'] as const;
export type DashboardRange = (typeof DASHBOARD_RANGES)[number];

const SPANS: Record<DashboardRange, { span: number; bucket: number }> = {
  '1h': { span: 3_600_000, bucket: 60_000 },
  '1d': { span: 86_400_000, bucket: 900_000 },
  '7d': { span: 7 * 86_400_000, bucket: 7_200_000 },
};

export interface Dashboard {
  window: { range: DashboardRange; since: number; until: number; bucketSeconds: number };
  traffic: TrafficSeries;
  directSend: { sources: DirectSendSourceRow[]; newSources: number };
  queue: { byState: Record<QueueState, number>; open: number; oldestOpenAt: number | null; oldestAgeSeconds: number | null };
  failures: { failed: number; deferred: number; recent: FailureRow[] };
  alerts: { open: number; recent: { id: number; kind: string; summary: string; count: number; lastSeen: string }[] };
  org: { name: string; rejectDirectSend: boolean; rulesInAudit: string[]; rulesEnforced: number; configVersion: number | null };
  /**
   * On a fleet (the shared PostgreSQL store): every node that reported, with its state,
   * configuration lag and queue depth (the queue above is this node's own). Null on one node.
   */
  fleet: { node: string; nodes: Pick<NodeRow, 'name' | 'state' | 'configVersion' | 'configLag' | 'queueDepth' | 'ageSeconds'>[] } | null;
}

/** The dashboard over the last `range`. */
export async function dashboard(ctx: OpsContext, range: DashboardRange = '1h', now = Date.now()): Promise<Dashboard> {
  const s = SPANS[range];
  if (!s) throw new OpsError('invalid', `window must be one of ${DASHBOARD_RANGES.join(', ')}, not "${String(range)}"`);
  const until = Math.floor(now / s.bucket) * s.bucket + s.bucket;
  const since = until - s.span;
  const w = { since, until, bucketMs: s.bucket };
  const t = await dashboardFrom(ctx.trace, w);
  const sources = t.sources;
  const q = queueSummary(ctx);
  const open = ctx.alerts ? await listAlerts(ctx, { state: 'open', limit: 1000 }) : [];
  const v = await ctx.store.current();
  const rules = v?.config.transportRules ?? [];
  const enabled = rules.filter((r) => r.state !== 'Disabled');
  const fleet =
    ctx.trace?.kind === 'postgres' && ctx.nodes
      ? { node: ctx.node ?? '', nodes: (await listNodes(ctx)).map(({ name, state, configVersion, configLag, queueDepth, ageSeconds }) => ({ name, state, configVersion, configLag, queueDepth, ageSeconds })) }
      : null;
  return {
    window: { range, since, until, bucketSeconds: s.bucket / 1000 },
    traffic: t.traffic,
    directSend: { sources, newSources: sources.filter((x) => x.isNew).length },
    queue: { ...q, oldestAgeSeconds: q.oldestOpenAt === null ? null : Math.max(0, Math.round((now - q.oldestOpenAt) / 1000)) },
    failures: t.failures,
    alerts: { open: open.length, recent: open.slice(0, 5).map((a) => ({ id: a.id, kind: a.kind, summary: a.summary, count: a.count, lastSeen: a.lastSeen })) },
    org: {
      name: v?.config.organization.name ?? '',
      rejectDirectSend: v?.config.organization.rejectDirectSend ?? false,
      rulesInAudit: enabled.filter((r) => r.mode !== 'Enforce').map((r) => r.name),
      rulesEnforced: enabled.filter((r) => r.mode === 'Enforce').length,
      configVersion: v?.version ?? null,
    },
    fleet,
  };
}
