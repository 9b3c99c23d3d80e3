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
 * Touches: reads the trace tables.
 */
import type { Candidate, RuleContext } from '../types.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export function newSources(ctx: RuleContext): Candidate[] {
  const first = ctx.db.prepare(`SELECT MIN(received_at) AS t FROM trace_message WHERE attribution = 'direct-send'`).get() as { t: number | null };
  if (first.t === null || ctx.now < first.t + ctx.config.alerts.learningDays * DAY) return [];
  const fresh = ctx.db
    .prepare(
      `SELECT client_ip AS ip, mail_from AS sender, MIN(received_at) AS at, COUNT(*) AS n FROM trace_message
       WHERE attribution = 'direct-send' AND received_at >= ? AND received_at < ? GROUP BY client_ip, mail_from ORDER BY at LIMIT 1000`,
    )
    .all(ctx.since, ctx.now) as Array<{ ip: string; sender: string | null; at: number; n: number }>;
  const seenIp = ctx.db.prepare(`SELECT 1 FROM trace_message WHERE attribution = 'direct-send' AND client_ip = ? AND received_at < ? LIMIT 1`);
  const seenSender = ctx.db.prepare(`SELECT 1 FROM trace_message WHERE attribution = 'direct-send' AND mail_from = ? AND received_at < ? LIMIT 1`);
  const out: Candidate[] = [];
  const raised = new Set<string>();
  for (const r of fresh) {
    const detail = { ip: r.ip, sender: r.sender ?? '', firstSeen: new Date(r.at).toISOString(), messages: r.n };
    if (!raised.has(`ip:${r.ip}`) && seenIp.get(r.ip, r.at) === undefined) {
      raised.add(`ip:${r.ip}`);
      out.push({ kind: 'new-source', key: `ip:${r.ip}`, summary: `new Direct Send source ${r.ip} (sender ${r.sender ?? '<>'})`, detail, seenAt: r.at });
    } else if (r.sender && !raised.has(`ip:${r.ip}`) && !raised.has(`sender:${r.sender}`) && seenSender.get(r.sender, r.at) === undefined) {
      raised.add(`sender:${r.sender}`);
      out.push({ kind: 'new-source', key: `sender:${r.sender}`, summary: `new Direct Send sender ${r.sender} from ${r.ip}`, detail, seenAt: r.at });
    }
  }
  return out;
}

export function connectorDrift(ctx: RuleContext): Candidate[] {
  const rows = ctx.db
    .prepare(
      `SELECT lower(substr(mail_from, instr(mail_from, '@') + 1)) AS domain, COUNT(*) AS n, COUNT(DISTINCT client_ip) AS ips, MAX(received_at) AS last
       FROM trace_message WHERE status = 'Rejected' AND reply LIKE '% 5.7.51 %' AND received_at >= ? AND received_at < ? GROUP BY domain LIMIT 1000`,
    )
    .all(ctx.since, ctx.now) as Array<{ domain: string | null; n: number; ips: number; last: number }>;
  return rows.map((r) => ({
    kind: 'connector-drift',
    key: `domain:${r.domain ?? ''}`,
    summary: `mail claiming ${r.domain || '<>'} refused with 5.7.51 (not from the restricted connector's IPs or certificate): ${r.n} from ${r.ips} IPs`,
    detail: { domain: r.domain ?? '', refused: r.n, clientIps: r.ips, last: new Date(r.last).toISOString() },
    seenAt: r.last,
  }));
}

export function silentConnectors(ctx: RuleContext): Candidate[] {
  const silent = ctx.config.alerts.connectorSilentDays * DAY;
  const before = ctx.now - silent;
  const days = ctx.db.prepare(`SELECT COUNT(DISTINCT received_at / ${DAY}) AS d FROM trace_message WHERE connector = ? AND received_at >= ? AND received_at < ?`);
  const recent = ctx.db.prepare(`SELECT 1 FROM trace_message WHERE connector = ? AND received_at >= ? LIMIT 1`);
  const out: Candidate[] = [];
  for (const c of ctx.config.inboundConnectors) {
    if (!c.enabled) continue;
    const d = (days.get(c.name, before - 7 * DAY, before) as { d: number }).d;
    if (d < 7 || recent.get(c.name, before) !== undefined) continue;
    out.push({
      kind: 'connector-silent',
      key: `connector:${c.name}`,
      summary: `connector ${c.name} matched mail every day until ${ctx.config.alerts.connectorSilentDays} days ago and none since`,
      detail: { connector: c.name, silentDays: ctx.config.alerts.connectorSilentDays },
    });
  }
  return out;
}

const REPLY_CODE = /^([245]\d\d)(?: ([245]\.\d{1,3}\.\d{1,3}))?/;

function refusalsByCode(ctx: RuleContext, from: number, until: number): Map<string, number> {
  const rows = ctx.db
    .prepare(`SELECT substr(reply, 1, 14) AS head, COUNT(*) AS n FROM trace_message WHERE status = 'Rejected' AND received_at >= ? AND received_at < ? GROUP BY head`)
    .all(from, until) as Array<{ head: string | null; n: number }>;
  const out = new Map<string, number>();
  for (const r of rows) {
    const m = REPLY_CODE.exec(r.head ?? '');
    const code = m ? (m[2] ?? m[1] ?? 'other') : 'other';
    out.set(code, (out.get(code) ?? 0) + r.n);
  }
  return out;
}

export function rejectionSpikes(ctx: RuleContext): Candidate[] {
  const { factor, minCount } = ctx.config.alerts.rejectionSpike;
  const hourStart = ctx.now - HOUR;
  const last = refusalsByCode(ctx, hourStart, ctx.now);
  const base = refusalsByCode(ctx, hourStart - 7 * 24 * HOUR, hourStart);
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
