/**
 * @module ops/rules-replay
 * "What would my rules do to last month's traffic": runs the transport rules (as configured, or
 * with every rule in Enforce: `asEnforce`) over the traced messages that reached the end of DATA
 * (rows not refused earlier), with the facts a trace row holds — envelope, header From, recipients,
 * subject, size, client IP, attribution and connector, SPF/DKIM/DMARC/compauth, spoof suspicion.
 * Header fields (other than From and Subject), the body and attachments are not in the trace: a
 * rule that needs them is counted as undetermined for that message, never guessed.
 * The messages come from ctx.trace (on a fleet node the shared trace).
 * Touches: the trace (through ctx.trace) and config store (read only).
 */
import { compilePolicy, type Config } from '../config/index.ts';
import { evaluateSnapshotRules } from '../policy/rules/index.ts';
import type { Attribution, ConnectorType } from '../policy/types.ts';
import type { TraceMessage, TraceStore } from '../trace/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

export interface RuleReplayRow {
  rule: string;
  mode: string;
  state: string;
  hits: number;
  undetermined: number;
  /** What the hits would do (every action, whatever the mode). */
  actions: string;
  /** Up to 5 message ids hit. */
  samples: string;
  /** What an undetermined message lacked. */
  needs: string;
}

export interface RuleReplayResult {
  messages: number;
  rows: RuleReplayRow[];
}

/** The attribution a trace row records, rebuilt. */
export function attributionOfRow(m: TraceMessage): Attribution {
  switch (m.attribution) {
    case 'authenticated':
      return { kind: 'authenticated', user: m.authUser ?? '' };
    case 'connector':
      return { kind: 'connector', connector: m.connector ?? '', connectorType: (m.connectorType as ConnectorType | undefined) ?? 'Partner', matchedBy: m.connectorMatchedBy === 'certificate' ? 'certificate' : 'ip' };
    case 'direct-send':
      return { kind: 'direct-send', basis: 'mail-from' };
    case 'relay-denied':
      return { kind: 'relay-denied' };
    default:
      return { kind: 'anonymous-external' };
  }
}

export interface RuleReplayOptions {
  since: number;
  until?: number | undefined;
  limit: number;
  asEnforce?: boolean | undefined;
  now?: number | undefined;
}

export async function replayRules(ctx: OpsContext, opts: RuleReplayOptions): Promise<RuleReplayResult> {
  const v = await ctx.store.current();
  if (!v) throw new OpsError('unavailable', `no configuration in ${ctx.dataDir}`);
  return replayRulesFrom(ctx.trace, v.config, opts);
}

/** The rules of `base` (a candidate, for `policy replay`) over the trace window of a trace store. */
export async function replayRulesFrom(trace: Pick<TraceStore, 'search'>, base: Config, opts: RuleReplayOptions): Promise<RuleReplayResult> {
  return rulesOver(await trace.search({ since: opts.since, until: opts.until, limit: opts.limit }), base, opts);
}

/** The rules over the window's messages (newest first, as the search gives them). */
function rulesOver(found: readonly TraceMessage[], base: Config, opts: RuleReplayOptions): RuleReplayResult {
  const config: Config = opts.asEnforce ? { ...base, transportRules: base.transportRules.map((r) => ({ ...r, mode: 'Enforce' as const })) } : base;
  const snap = compilePolicy(config, 0);
  const stats = new Map(config.transportRules.map((r) => [r.name, { hits: 0, undetermined: 0, samples: [] as string[], needs: new Set<string>() }]));
  let messages = 0;
  for (const m of found) {
    // A refused transaction never reached the end of DATA, where rules run.
    if (m.status === 'Rejected') continue;
    // Messages mailgate generated (bounces, incident reports) never pass the rules (Exchange: all messages but NDRs).
    if (m.connectionId === 'local') continue;
    messages++;
    const out = evaluateSnapshotRules(snap, {
      mailFrom: m.mailFrom ?? '',
      headerFrom: m.headerFrom,
      recipients: m.recipients,
      clientIp: m.clientIp,
      attribution: attributionOfRow(m),
      subject: m.subject,
      size: m.size,
      auth: { spf: m.spf, dkim: m.dkim, dmarc: m.dmarc, compauth: m.compauth, spoofSuspect: m.spoofSuspect },
      now: opts.now ?? m.receivedAt,
    });
    for (const h of out.hits) {
      const s = stats.get(h.rule);
      if (!s) continue;
      s.hits++;
      if (s.samples.length < 5) s.samples.push(m.id);
    }
    for (const u of out.undetermined) {
      const [name, needs] = [u.slice(0, u.indexOf(': ')), u.slice(u.indexOf(': ') + 2)];
      const s = stats.get(name);
      if (!s) continue;
      s.undetermined++;
      needs.split(', ').forEach((n) => s.needs.add(n));
    }
  }
  const rows = [...config.transportRules]
    .sort((a, b) => a.priority - b.priority)
    .map((r) => {
      const s = stats.get(r.name) ?? { hits: 0, undetermined: 0, samples: [], needs: new Set<string>() };
      return { rule: r.name, mode: r.mode, state: r.state, hits: s.hits, undetermined: s.undetermined, actions: Object.keys(r.actions).join(', '), samples: s.samples.join(' '), needs: [...s.needs].join(', ') };
    });
  return { messages, rows };
}
