/**
 * @module alerts/rules/traffic
 * The alert rules read from the trace: a new anonymous source of an accepted domain (an IP, or a
 * sender from a known IP, never seen as `direct-send` before, once the learning window after the
 * first Direct Send message is over), connector drift (refusals with 5.7.51, the failure of mail
 * claiming a restricted Partner connector's domains from another IP or certificate: Exchange
 * Online's TenantInboundAttribution after a certificate renewal or IP change), a connector that
 * matched mail on each of the 7 days before and has been silent `connectorSilentDays`, and a
 * rejection spike (refusals of one code in the last hour against the hourly average of the 7 days
 * before it).
 * Each rule reads a TraceStore: the node's own trace on a single node, the fleet's on a fleet (the
 * adapters' rows are the same, so are the findings).
 * Touches: reads the trace (through the given store).
 */
import type { DriftGroup, NewSourceRow, TraceStore } from '../../trace/index.ts';
import type { Candidate, RuleContext } from '../types.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** At most this many source pairs or domains per evaluation. */
const LIMIT = 1000;

const learning = (ctx: RuleContext, first: number | undefined): boolean => first === undefined || ctx.now < first + ctx.config.alerts.learningDays * DAY;

function newSourceCandidates(fresh: readonly NewSourceRow[]): Candidate[] {
  const out: Candidate[] = [];
  const raised = new Set<string>();
  for (const r of fresh) {
    const detail = { ip: r.ip, sender: r.sender ?? '', firstSeen: new Date(r.at).toISOString(), messages: r.n };
    if (!raised.has(`ip:${r.ip}`) && !r.ipSeen) {
      raised.add(`ip:${r.ip}`);
      out.push({ kind: 'new-source', key: `ip:${r.ip}`, summary: `new Direct Send source ${r.ip} (sender ${r.sender ?? '<>'})`, detail, seenAt: r.at });
    } else if (r.sender && !raised.has(`ip:${r.ip}`) && !raised.has(`sender:${r.sender}`) && !r.senderSeen) {
      raised.add(`sender:${r.sender}`);
      out.push({ kind: 'new-source', key: `sender:${r.sender}`, summary: `new Direct Send sender ${r.sender} from ${r.ip}`, detail, seenAt: r.at });
    }
  }
  return out;
}

export async function newSources(ctx: RuleContext, trace: TraceStore): Promise<Candidate[]> {
  if (learning(ctx, await trace.firstDirectSend())) return [];
  return newSourceCandidates(await trace.newSourceRows(ctx.since, ctx.now, LIMIT));
}

const driftCandidates = (rows: readonly DriftGroup[]): Candidate[] =>
  rows.map((r) => ({
    kind: 'connector-drift',
    key: `domain:${r.domain ?? ''}`,
    summary: `mail claiming ${r.domain || '<>'} refused with 5.7.51 (not from the restricted connector's IPs or certificate): ${r.n} from ${r.ips} IPs`,
    detail: { domain: r.domain ?? '', refused: r.n, clientIps: r.ips, last: new Date(r.last).toISOString() },
    seenAt: r.last,
  }));

export async function connectorDrift(ctx: RuleContext, trace: TraceStore): Promise<Candidate[]> {
  return driftCandidates(await trace.driftGroups(ctx.since, ctx.now, LIMIT));
}

/** The silent-connector finding of connector `name` from its active days before the silence and any mail since. */
function silentCandidate(ctx: RuleContext, name: string, a: { days: number; after: boolean }): Candidate[] {
  if (a.days < 7 || a.after) return [];
  return [
    {
      kind: 'connector-silent',
      key: `connector:${name}`,
      summary: `connector ${name} matched mail every day until ${ctx.config.alerts.connectorSilentDays} days ago and none since`,
      detail: { connector: name, silentDays: ctx.config.alerts.connectorSilentDays },
    },
  ];
}

const silenceStart = (ctx: RuleContext): number => ctx.now - ctx.config.alerts.connectorSilentDays * DAY;

export async function silentConnectors(ctx: RuleContext, trace: TraceStore): Promise<Candidate[]> {
  const before = silenceStart(ctx);
  const out: Candidate[] = [];
  for (const c of ctx.config.inboundConnectors) if (c.enabled) out.push(...silentCandidate(ctx, c.name, await trace.connectorDays(c.name, before - 7 * DAY, before)));
  return out;
}

const REPLY_CODE = /^([245]\d\d)(?: ([245]\.\d{1,3}\.\d{1,3}))?/;

function byCode(heads: readonly { head: string | null; n: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of heads) {
    const m = REPLY_CODE.exec(r.head ?? '');
    const code = m ? (m[2] ?? m[1] ?? 'other') : 'other';
    out.set(code, (out.get(code) ?? 0) + r.n);
  }
  return out;
}

function spikeCandidates(ctx: RuleContext, last: Map<string, number>, base: Map<string, number>): Candidate[] {
  const { factor, minCount } = ctx.config.alerts.rejectionSpike;
  const out: Candidate[] = [];
  for (const [code, n] of last) {
    const perHour = (base.get(code) ?? 0) / (7 * 24);
    if (n < minCount || n <= factor * perHour) continue;
    out.push({
      kind: 'rejection-spike',
      key: `code:${code}`,
      summary: `${n} refusals with ${code} in the last hour (hourly average of the 7 days before: ${perHour.toFixed(1)})`,
      detail: { code, lastHour: n, baselinePerHour: Number(perHour.toFixed(3)), factor },
    });
  }
  return out;
}

export async function rejectionSpikes(ctx: RuleContext, trace: TraceStore): Promise<Candidate[]> {
  const hourStart = ctx.now - HOUR;
  const [last, base] = await Promise.all([trace.refusalHeads(hourStart, ctx.now), trace.refusalHeads(hourStart - 7 * 24 * HOUR, hourStart)]);
  return spikeCandidates(ctx, byCode(last), byCode(base));
}
