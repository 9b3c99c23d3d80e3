/**
 * @module ops/alerts
 * The alerts the queue owner raised (alerts/engine.ts): list them, acknowledge one (closed, with
 * who and when: found again after that, it is a new alert), and send a test alert to every
 * configured webhook (`mailgate alert test-webhook`), signed as real ones are. The store is the
 * context's: the node's SQLite file, or on a fleet node the fleet's (an ack there holds for all).
 * Touches: the alert store (ctx.alerts); outbound HTTP(S) to the webhooks (test).
 */
import { postWebhook, type AlertRow, type AlertStore, type WebhookOptions } from '../alerts/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';

export interface AlertView {
  id: number;
  kind: string;
  state: 'open' | 'acked';
  count: number;
  firstSeen: string;
  lastSeen: string;
  summary: string;
  key: string;
  detail: Record<string, unknown>;
  ackedBy: string | null;
  ackedAt: string | null;
  notifiedAt: string | null;
}

const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

function view(a: AlertRow): AlertView {
  return {
    id: a.id,
    kind: a.kind,
    state: a.state,
    count: a.count,
    firstSeen: new Date(a.firstAt).toISOString(),
    lastSeen: new Date(a.lastAt).toISOString(),
    summary: a.summary,
    key: a.key,
    detail: a.detail,
    ackedBy: a.ackedBy ?? null,
    ackedAt: iso(a.ackedAt),
    notifiedAt: iso(a.notifiedAt),
  };
}

function storeOf(ctx: OpsContext): AlertStore {
  if (!ctx.alerts) throw new OpsError('unavailable', 'no alert store opened for this request');
  return ctx.alerts;
}

/** Alerts, newest first: open ones (default), acknowledged ones, or all. */
export async function listAlerts(ctx: OpsContext, input: { state?: 'open' | 'acked' | 'all'; limit?: number } = {}): Promise<AlertView[]> {
  const state = input.state ?? 'open';
  return (await storeOf(ctx).list({ ...(state === 'all' ? {} : { state }), limit: input.limit ?? 1000 })).map(view);
}

/** Acknowledge open alert `id` as ctx.actor. */
export async function ackAlert(ctx: OpsContext, id: number): Promise<AlertView> {
  const store = storeOf(ctx);
  const a = await store.get(id);
  if (!a) throw new OpsError('not-found', `no alert ${id}`);
  // Another node (or user) may ack between the read and the write: the write decides.
  const conflict = (by: string | undefined): OpsError => new OpsError('conflict', `alert ${id} was already acknowledged by ${by ?? '?'}`);
  if (a.state !== 'open') throw conflict(a.ackedBy);
  const acked = await store.ack(id, ctx.actor, Date.now());
  const after = await store.get(id);
  if (!after) throw new OpsError('not-found', `no alert ${id}`);
  if (!acked) throw conflict(after.ackedBy);
  return view(after);
}

export interface WebhookTestResult {
  url: string;
  ok: boolean;
  tries: number;
  last: string;
}

/** Send a test alert to every configured webhook (signed with its secret); one result per webhook. */
export async function testWebhooks(ctx: OpsContext, opts: WebhookOptions = { tries: 1 }): Promise<WebhookTestResult[]> {
  const cfg = (await ctx.store.current())?.config;
  const hooks = cfg?.alerts.webhooks ?? [];
  if (hooks.length === 0) throw new OpsError('invalid', 'no webhook configured (alerts.webhooks)');
  const payload = { id: 0, kind: 'test', key: 'test', summary: 'mailgate test alert', detail: { by: ctx.actor }, firstSeen: new Date().toISOString(), lastSeen: new Date().toISOString(), count: 1, gateway: cfg?.organization.hostname ?? '' };
  return Promise.all(
    hooks.map(async (h) => {
      const r = await postWebhook(h.url, h.secret, payload, opts);
      return { url: h.url, ...r };
    }),
  );
}
