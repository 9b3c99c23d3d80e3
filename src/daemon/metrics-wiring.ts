/**
 * @module daemon/metrics-wiring
 * Where the gateway's parts meet its metrics (metrics/registry.ts) without knowing of them: the
 * receive side's trace sink and acceptor are wrapped (every refusal is traced, every acceptance
 * goes through accept(), so their rows carry listener, attribution, connector, reply and the
 * SPF/DKIM/DMARC results), the delivery agent is wrapped (outcomes per recipient, grouped by the
 * route that serves it), and the queue owner's gauges read the store, the trace writer and the
 * configuration when scraped.
 * Touches: nothing itself (the store is read at scrape time).
 */
import { GatewayMetrics, OTHER, replyCode, type OwnerGauges } from '../metrics/index.ts';
import type { TraceMessage, TraceSink } from '../trace/index.ts';
import type { Acceptor } from '../smtp/deps.ts';
import type { DeliveryAgent, RecipientOutcome } from '../queue/index.ts';
import type { Route } from '../config/schema.ts';
import { groupByRoute } from '../deliver/route.ts';

/** "pass smtp.mailfrom=…" → "pass"; a DKIM JSON array → its first result; "none" stays. */
function firstWord(v: string): string {
  const sp = v.indexOf(' ');
  return sp < 0 ? v : v.slice(0, sp);
}
const DKIM_RESULT = /"result":"([a-z]+)"/;
function dkimResult(v: string): string {
  if (!v.startsWith('[')) return firstWord(v);
  return DKIM_RESULT.exec(v)?.[1] ?? OTHER;
}

function countAuth(m: GatewayMetrics, row: TraceMessage): void {
  if (row.spf) m.authResult('spf', firstWord(row.spf));
  if (row.dkim) m.authResult('dkim', dkimResult(row.dkim));
  if (row.dmarc) m.authResult('dmarc', firstWord(row.dmarc));
}

/** The receive side's trace sink, counting each refused transaction it records. */
export function countingTrace(sink: TraceSink, m: GatewayMetrics): TraceSink {
  return {
    message(row: TraceMessage): void {
      sink.message(row);
      // Refused connections are counted where they are refused (smtp/handlers: connection()).
      if (row.status !== 'Rejected' || row.id === row.connectionId) return;
      const code = replyCode(row.reply);
      m.transaction(row.listener, code.startsWith('4') ? 'tempfailed' : 'rejected', row.attribution ?? 'none', row.connector ?? '', code);
      countAuth(m, row);
    },
    event: (ev) => sink.event(ev),
  };
}

/** The receive side's acceptor, counting each message once it is accepted (250). */
export function countingAcceptor(a: Acceptor, m: GatewayMetrics): Acceptor {
  return {
    begin: (id) => a.begin(id),
    accept: async (writer, meta, disposition, row, events) => {
      const id = await a.accept(writer, meta, disposition, row, events);
      m.transaction(row.listener, disposition === 'hold' ? 'quarantined' : 'accepted', row.attribution ?? 'none', row.connector ?? '', '250');
      countAuth(m, row);
      return id;
    },
    // Generated messages (incident reports, notices) pass through uncounted: no SMTP client sent them.
    ...(a.acceptBytes ? { acceptBytes: a.acceptBytes.bind(a) } : {}),
  };
}

/** The delivery agent, counting attempts, per-recipient outcomes and latency by route. */
export function countingAgent<A extends DeliveryAgent>(agent: A, routes: () => readonly Route[], m: GatewayMetrics): A {
  const wrapped = (async (req) => {
    const began = performance.now();
    const out: RecipientOutcome[] = await agent(req);
    const seconds = (performance.now() - began) / 1000;
    const groups = groupByRoute(routes(), req.recipients);
    const status = new Map(out.map((o) => [o.rcpt, o.status] as const));
    for (const [route, rcpts] of groups.byRoute) m.delivery(route.name, seconds, rcpts.map((r) => status.get(r) ?? 'deferred'));
    if (groups.unrouted.length > 0) m.delivery('(none)', seconds, groups.unrouted.map((r) => status.get(r) ?? 'failed'));
    return out;
  }) as A;
  return Object.assign(wrapped, agent);
}

export type { OwnerGauges };
