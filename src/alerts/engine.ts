/**
 * @module alerts/engine
 * Evaluates the alert rules on a schedule in the queue owner (one process, so one evaluation at a
 * time and one writer), records each finding (alerts/store.ts: deduplicated by kind and key) and
 * sends what is new, or still open and last sent more than `renotifyMinutes` ago, to every webhook
 * and (when configured) as mail queued through the gateway. The rules that read a long window
 * (stale allow entries, silent connectors, certificates) run at most hourly.
 * On a fleet the rules that read the trace (new source, connector drift and silence, rejection
 * spike, stale allow entries) read the fleet's trace and run on one node only, the holder of the
 * fleet's alert lock (`fleetTrace.leader()`); queue, certificate and heartbeat rules run on every
 * node. Alerts are still recorded in each node's own store.
 * Touches: the SQLite store (through the store and the rules), the webhooks, the queue (sendMail).
 */
import type { Db } from '../core/sqlite.ts';
import type { Logger } from '../core/log.ts';
import type { Config } from '../config/schema.ts';
import { AlertStore, type AlertRow } from './store.ts';
import type { FleetRule, FleetTrace, QueueFacts, Rule, RuleContext } from './types.ts';
import { connectorDrift, connectorDriftFrom, newSources, newSourcesFrom, rejectionSpikes, rejectionSpikesFrom, silentConnectors, silentConnectorsFrom } from './rules/traffic.ts';
import { certificateExpiry, queueThresholds, staleAllowEntries, staleAllowEntriesFrom } from './rules/state.ts';
import { fleetNodes } from './rules/fleet.ts';
import type { FleetFacts } from '../config/nodes.ts';
import { alertMessage } from './mail.ts';
import { postWebhook, type WebhookOptions } from './webhook.ts';

/** Rules run at every evaluation. */
export const FREQUENT_RULES: readonly Rule[] = [newSources, connectorDrift, rejectionSpikes, queueThresholds, fleetNodes];
/** Rules run at most hourly. */
export const HOURLY_RULES: readonly Rule[] = [silentConnectors, staleAllowEntries, certificateExpiry];

/** The rules that read the trace, with their fleet form. */
export const TRACE_RULES: ReadonlyMap<Rule, FleetRule> = new Map<Rule, FleetRule>([
  [newSources, newSourcesFrom],
  [connectorDrift, connectorDriftFrom],
  [rejectionSpikes, rejectionSpikesFrom],
  [silentConnectors, silentConnectorsFrom],
  [staleAllowEntries, staleAllowEntriesFrom],
]);

/** Trace rows are buffered before they are written: each evaluation looks this far back again (dedup makes it harmless). */
export const LOOKBACK_MARGIN_MS = 60_000;
/** On a fleet rows reach the shared trace through each node's outbox, later: the trace rules look back further there. */
export const FLEET_LOOKBACK_MARGIN_MS = 15 * 60_000;
const HOUR = 3_600_000;

export interface AlertEngineDeps {
  db: Db;
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

  constructor(private readonly d: AlertEngineDeps) {
    this.store = new AlertStore(d.db);
  }

  /** Evaluate now (an evaluation already running is joined); resolves with the alerts sent. */
  evaluate(): Promise<AlertRow[]> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Evaluate every `alerts.intervalSeconds` (read at each turn) until stop(). */
  start(): void {
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

  /** The trace the trace rules read this turn: the fleet's (when this node holds the lock), none (another node does), or undefined = this node's SQLite trace. */
  private async traceOfTurn(): Promise<{ trace?: FleetTrace['trace'] | undefined; skip: boolean }> {
    const f = this.d.fleetTrace;
    if (!f) return { skip: false };
    const lead = await f.leader().catch((err: unknown) => {
      this.d.logger.warn({ err }, 'fleet alert lock not checked; trace rules skipped this turn');
      return false;
    });
    return lead ? { trace: f.trace, skip: false } : { skip: true };
  }

  private async run(): Promise<AlertRow[]> {
    const config = this.d.config();
    const now = this.d.now();
    const last = this.store.lastRun() ?? now - config.alerts.intervalSeconds * 1000;
    const fleet = await this.d.fleet?.().catch((err: unknown) => void this.d.logger.debug({ err }, 'fleet heartbeats not read'));
    const ctx: RuleContext = { db: this.d.db, config, now, since: Math.min(last, now) - LOOKBACK_MARGIN_MS, queue: this.d.queue?.(), fleet: fleet ?? undefined };
    const rules = now - this.lastHourly >= HOUR ? [...FREQUENT_RULES, ...HOURLY_RULES] : FREQUENT_RULES;
    if (rules.length > FREQUENT_RULES.length) this.lastHourly = now;
    const turn = await this.traceOfTurn();
    const fleetCtx: RuleContext = { ...ctx, since: Math.min(last, now) - FLEET_LOOKBACK_MARGIN_MS };
    const due: AlertRow[] = [];
    for (const rule of rules) {
      const fleetForm = TRACE_RULES.get(rule);
      if (fleetForm && turn.skip) continue;
      let found;
      try {
        found = fleetForm && turn.trace ? await fleetForm(fleetCtx, turn.trace) : rule(ctx);
      } catch (err) {
        this.d.logger.warn({ err, rule: rule.name }, 'alert rule failed');
        continue;
      }
      for (const c of found) {
        const row = this.store.raise(c, now, config.alerts.renotifyMinutes * 60_000);
        if (!row) continue;
        if (row.notifiedAt === undefined || now - row.notifiedAt >= config.alerts.renotifyMinutes * 60_000) due.push(row);
      }
    }
    this.store.setLastRun(now);
    const sent: AlertRow[] = [];
    for (const a of due) {
      if (await this.send(a, config, now)) {
        this.store.markNotified(a.id, now);
        sent.push(a);
      }
    }
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
