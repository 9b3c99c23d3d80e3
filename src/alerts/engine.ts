/**
 * @module alerts/engine
 * Evaluates the alert rules on a schedule in the queue owner (one process per node, so one
 * evaluation at a time there), records each finding (alerts/store.ts: deduplicated by kind and key) and
 * sends what is new, or still open and last sent more than `renotifyMinutes` ago, to every webhook
 * and (when configured) as mail queued through the gateway. The rules that read a long window
 * (stale allow entries, silent connectors, certificates) run at most hourly.
 * The rules that read the trace (new source, connector drift and silence, rejection spike, stale
 * allow entries) read a TraceStore: on a single node its own trace (no lock: one queue owner); on
 * a fleet the fleet's trace, on one node only, the holder of the fleet's alert lock
 * (`fleetTrace.leader()`); queue, certificate and heartbeat rules run on every node. Every node records in the fleet's store: node-local findings (queue, certificates) carry
 * the node in key and detail, fleet-wide ones are one alert for the fleet, and the store's
 * notification claim lets one node send each.
 * Touches: the alert store, the trace (a TraceStore, through the rules), the webhooks, the queue (sendMail).
 */
import type { Logger } from '../core/log.ts';
import type { Config } from '../config/schema.ts';
import type { AlertRow, AlertStore } from './store.ts';
import type { TraceStore } from '../trace/index.ts';
import type { AlertKind, Candidate, FleetTrace, QueueFacts, Rule, RuleContext, TraceRule } from './types.ts';
import { connectorDrift, newSources, rejectionSpikes, silentConnectors } from './rules/traffic.ts';
import { certificateExpiry, queueThresholds, staleAllowEntries } from './rules/state.ts';
import { fleetNodes } from './rules/fleet.ts';
import type { FleetFacts } from '../config/nodes.ts';
import { alertMessage } from './mail.ts';
import { postWebhook, type WebhookOptions } from './webhook.ts';

/** Rules of one period: those that read the trace (run first), those that read the context's facts. */
export interface RuleSet {
  trace: readonly TraceRule[];
  state: readonly Rule[];
}

/** Rules run at every evaluation. */
export const FREQUENT_RULES: RuleSet = { trace: [newSources, connectorDrift, rejectionSpikes], state: [queueThresholds, fleetNodes] };
/** Rules run at most hourly. */
export const HOURLY_RULES: RuleSet = { trace: [silentConnectors, staleAllowEntries], state: [certificateExpiry] };

/** The rules that read the trace, in evaluation order. */
export const TRACE_RULES: readonly TraceRule[] = [...FREQUENT_RULES.trace, ...HOURLY_RULES.trace];

/** Trace rows are buffered before they are written: each evaluation looks this far back again (dedup makes it harmless). */
export const LOOKBACK_MARGIN_MS = 60_000;
/** On a fleet rows reach the shared trace through each node's outbox, later: the trace rules look back further there. */
export const FLEET_LOOKBACK_MARGIN_MS = 15 * 60_000;
const HOUR = 3_600_000;
/** How long a notification claim holds: longer than a send with its retries takes (about 47 s). */
export const NOTIFY_LEASE_MS = 5 * 60_000;

/** Findings about one node's own state: on a fleet, one alert per node (the node in key and detail). */
export const NODE_LOCAL_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>(['queue-age', 'deferred-count', 'cert-expiry']);

/** A node-local finding as node `node` records it in the fleet's store. */
function ofNode(c: Candidate, node: string): Candidate {
  return { ...c, key: `${node}:${c.key}`, summary: `node ${node}: ${c.summary}`, detail: { ...c.detail, node } };
}

export interface AlertEngineDeps {
  /** The node's own trace: the trace rules read it on a single node. Never closed by the engine (a shared handle). */
  trace: TraceStore;
  /** Where alerts are recorded: the node's SQLite file, or on a fleet the fleet's store. */
  alerts: AlertStore;
  /**
   * On a fleet node: its own store (the SQLite file), where its node-local findings (queue,
   * certificates) are recorded and sent from while the fleet's store does not answer.
   */
  localAlerts?: AlertStore | undefined;
  /** On a fleet node: its name, carried by its node-local findings. Absent on a single node. */
  node?: string | undefined;
  config(): Config;
  now(): number;
  logger: Logger;
  hostname(): string;
  queue?: (() => QueueFacts) | undefined;
  /** The fleet's heartbeats (a store that does not answer: no fleet alerts this turn). */
  fleet?: (() => Promise<FleetFacts>) | undefined;
  /** On a fleet node: the fleet's trace; the trace rules read it, on the lock holder only. */
  fleetTrace?: FleetTrace | undefined;
  /** Queue a generated message through the gateway (like a bounce); resolves with its queue id. */
  sendMail?: ((mailFrom: string, rcptTo: string[], bytes: Buffer) => Promise<string>) | undefined;
  webhook?: WebhookOptions | undefined;
}

/** The JSON a webhook receives. */
export function alertPayload(a: AlertRow, hostname: string): Record<string, unknown> {
  return {
    id: a.id,
    kind: a.kind,
    key: a.key,
    summary: a.summary,
    detail: a.detail,
    firstSeen: new Date(a.firstAt).toISOString(),
    lastSeen: new Date(a.lastAt).toISOString(),
    count: a.count,
    gateway: hostname,
  };
}

export class AlertEngine {
  readonly store: AlertStore;
  private lastHourly = 0;
  private running: Promise<AlertRow[]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private open: Record<string, number> = {};
  /** The fleet's store did not answer at the last turn (the fallback is in use). */
  private away = false;

  constructor(private readonly d: AlertEngineDeps) {
    this.store = d.alerts;
  }

  /** Open alerts by kind as of the last evaluation (the metrics read it synchronously when scraped). */
  openByKind(): Record<string, number> {
    return this.open;
  }

  /** Evaluate now (an evaluation already running is joined); resolves with the alerts sent. */
  evaluate(): Promise<AlertRow[]> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Evaluate every `alerts.intervalSeconds` (read at each turn) until stop(). */
  start(): void {
    this.store.openByKind().then(
      (o) => (this.open = o),
      (err: unknown) => this.d.logger.debug({ err }, 'open alerts not counted'),
    );
    const tick = (): void => {
      const cfg = this.d.config().alerts;
      this.timer = setTimeout(() => {
        if (!this.d.config().alerts.enabled) return tick();
        this.evaluate()
          .catch((err: unknown) => this.d.logger.warn({ err }, 'alert evaluation failed'))
          .finally(tick);
      }, cfg.intervalSeconds * 1000);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.d.fleetTrace?.close().catch((err: unknown) => this.d.logger.debug({ err }, 'fleet alert lock not released'));
  }

  /** The trace the trace rules read this turn and its lookback margin: the node's own, the fleet's (this node holds the lock), or none (another node does). */
  private async traceOfTurn(): Promise<{ trace: TraceStore; marginMs: number } | undefined> {
    const f = this.d.fleetTrace;
    if (!f) return { trace: this.d.trace, marginMs: LOOKBACK_MARGIN_MS };
    const lead = await f.leader().catch((err: unknown) => {
      this.d.logger.warn({ err }, 'fleet alert lock not checked; trace rules skipped this turn');
      return false;
    });
    return lead ? { trace: f.trace, marginMs: FLEET_LOOKBACK_MARGIN_MS } : undefined;
  }

  /**
   * The store this turn records in: the configured one, or (a fleet node whose fleet store does not
   * answer) the node's own, for its node-local findings only.
   */
  private async storeOfTurn(): Promise<{ store: AlertStore; last: number | undefined; fallback: boolean }> {
    try {
      const last = await this.store.lastRun();
      if (this.away) this.d.logger.info('the fleet\'s alert store answers again');
      this.away = false;
      return { store: this.store, last, fallback: false };
    } catch (err) {
      const local = this.d.localAlerts;
      if (!local) throw err;
      if (!this.away) this.d.logger.warn({ err }, "the fleet's alert store does not answer: this node's queue and certificate alerts are kept and sent from its own file meanwhile");
      this.away = true;
      return { store: local, last: undefined, fallback: true };
    }
  }

  private async run(): Promise<AlertRow[]> {
    const config = this.d.config();
    const now = this.d.now();
    const at = await this.storeOfTurn();
    const store = at.store;
    const last = at.last ?? now - config.alerts.intervalSeconds * 1000;
    const fleet = await this.d.fleet?.().catch((err: unknown) => void this.d.logger.debug({ err }, 'fleet heartbeats not read'));
    const ctx: RuleContext = { config, now, since: Math.min(last, now) - LOOKBACK_MARGIN_MS, queue: this.d.queue?.(), fleet: fleet ?? undefined };
    const sets = now - this.lastHourly >= HOUR ? [FREQUENT_RULES, HOURLY_RULES] : [FREQUENT_RULES];
    if (sets.length > 1) this.lastHourly = now;
    // With the fleet's store away, the fleet's trace is too: only this node's own state is looked at.
    const turn = at.fallback ? undefined : await this.traceOfTurn();
    const renotifyMs = config.alerts.renotifyMinutes * 60_000;
    const due: AlertRow[] = [];
    const traceCtx: RuleContext = { ...ctx, since: Math.min(last, now) - (turn?.marginMs ?? LOOKBACK_MARGIN_MS) };
    const rules: Array<{ name: string; find: () => Candidate[] | Promise<Candidate[]> }> = [];
    for (const set of sets) {
      if (turn) for (const r of set.trace) rules.push({ name: r.name, find: () => r(traceCtx, turn.trace) });
      for (const r of set.state) rules.push({ name: r.name, find: () => r(ctx) });
    }
    for (const rule of rules) {
      let found;
      try {
        found = await rule.find();
      } catch (err) {
        this.d.logger.warn({ err, rule: rule.name }, 'alert rule failed');
        continue;
      }
      for (const c of found) {
        if (at.fallback && !NODE_LOCAL_KINDS.has(c.kind)) continue;
        const row = await store.raise(this.d.node !== undefined && NODE_LOCAL_KINDS.has(c.kind) ? ofNode(c, this.d.node) : c, now, renotifyMs);
        if (!row) continue;
        if (row.notifiedAt === undefined || now - row.notifiedAt >= renotifyMs) due.push(row);
      }
    }
    // The trace rules' period: on a fleet only the node that read the fleet's trace moves it on.
    if (turn) await store.setLastRun(now);
    const sent: AlertRow[] = [];
    for (const a of due) {
      // Claimed first: of several nodes raising the same alert at once, one sends it. A claim is a
      // lease: if this process dies before confirming, the alert is due again NOTIFY_LEASE_MS later.
      try {
        const claim = await store.claimNotify(a.id, now, renotifyMs, NOTIFY_LEASE_MS);
        if (!claim) continue;
        if (await this.send(a, config, now)) {
          await store.confirmNotify(claim, now);
          sent.push({ ...a, notifiedAt: now });
        } else await store.releaseNotify(claim);
      } catch (err) {
        // The store went away mid-turn: the lease runs out and the next turn tries again.
        this.d.logger.warn({ err, alert: a.id }, 'alert notification not recorded');
      }
    }
    if (!at.fallback) this.open = await store.openByKind();
    return sent;
  }

  /** True when every destination took it (or there is none: listed only); else it is tried at the next evaluation. */
  private async send(a: AlertRow, config: Config, now: number): Promise<boolean> {
    const host = this.d.hostname();
    this.d.logger.warn({ alert: a.id, kind: a.kind, key: a.key, summary: a.summary }, 'alert');
    let ok = true;
    const payload = alertPayload(a, host);
    const results = await Promise.all(config.alerts.webhooks.map((w) => postWebhook(w.url, w.secret, payload, this.d.webhook)));
    results.forEach((r, i) => {
      if (r.ok) return;
      ok = false;
      this.d.logger.warn({ alert: a.id, webhook: i, tries: r.tries, last: r.last }, 'alert webhook not delivered; tried again at the next evaluation');
    });
    const mail = config.alerts.email;
    if (mail && this.d.sendMail) {
      const from = mail.from || `mailgate@${host}`;
      try {
        const id = await this.d.sendMail(from, [...mail.to], alertMessage(a, from, mail.to, host, now));
        this.d.logger.info({ alert: a.id, queueId: id }, 'alert mail queued');
      } catch (err) {
        ok = false;
        this.d.logger.warn({ err, alert: a.id }, 'alert mail not queued; tried again at the next evaluation');
      }
    }
    return ok;
  }
}
