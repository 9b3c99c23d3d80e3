/**
 * @module daemon/alerts-wiring
 * Starts the alert engine (alerts/engine.ts) in the queue owner, the one process that evaluates
 * alerts: it reads the trace and the queue tables, queues alert mail through the gateway's own
 * acceptor (as the scheduler queues a bounce), and feeds `mailgate_alerts_open` to the metrics.
 * On a single node the trace rules read the node's own SQLite trace as a TraceStore.
 * On a fleet node the trace rules read the fleet's PostgreSQL trace, on the node holding the
 * fleet's alert lock only (stores/postgres/alert-lock), and every alert goes to the fleet's store
 * (node-local ones named after this node).
 * Touches: the alert store, the queue (through the acceptor), the fleet's PostgreSQL store.
 */
import { AlertEngine, type FleetTrace } from '../alerts/index.ts';
import type { Acceptor, QueueStore } from '../queue/index.ts';
import type { TraceMessage } from '../trace/index.ts';
import type { Runtime } from './runtime.ts';
import { fleetFacts } from '../ops/nodes.ts';
import { fleetAlertLock } from '../stores/postgres/alert-lock.ts';
import { pgTraceStore } from '../stores/postgres/trace-store.ts';
import { SqliteAlertStore } from '../stores/sqlite/alert-store.ts';
import { sqliteTraceStore } from '../stores/sqlite/trace-store.ts';

/** The trace row of an alert message we generate (a local source, like a bounce). */
function alertTraceRow(mailFrom: string, rcptTo: string[], now: number): TraceMessage {
  return { id: '', connectionId: 'local', receivedAt: now, clientIp: '127.0.0.1', listener: 'alerts', mailFrom, recipients: rcptTo, subject: 'mailgate alert', status: 'Pending', source: 'gateway' };
}

/** On a fleet node: the fleet's trace and the lock that elects the node evaluating its rules. */
function fleetTraceOf(rt: Runtime): FleetTrace | undefined {
  const b = rt.backing;
  if (b.bootstrap.kind !== 'postgres' || !b.pool) return undefined;
  const lock = fleetAlertLock(b.pool, b.bootstrap.schema);
  return { trace: pgTraceStore({ pool: b.pool, schema: b.bootstrap.schema, node: rt.node }), leader: () => lock.held(), close: () => lock.close() };
}

export function startAlerts(rt: Runtime, store: QueueStore, acceptor: Acceptor): AlertEngine {
  const engine = new AlertEngine({
    // The node's own trace over the shared handle (not owned: its close() leaves the handle open).
    trace: sqliteTraceStore(rt.db),
    alerts: rt.backing.alerts,
    // A fleet node's own file keeps its queue and certificate alerts while PostgreSQL is away.
    localAlerts: rt.backing.bootstrap.kind === 'postgres' ? new SqliteAlertStore(rt.db) : undefined,
    node: rt.backing.bootstrap.kind === 'postgres' ? rt.node : undefined,
    config: () => rt.snapshot().config,
    now: Date.now,
    logger: rt.logger.child({ component: 'alerts' }),
    hostname: () => rt.hostname(),
    queue: () => ({ byState: store.countByState(), oldestOpenAt: store.oldestOpenAt() }),
    // Only a fleet has other nodes to watch; on one node its own heartbeat would say nothing new.
    fleet: rt.backing.bootstrap.kind === 'postgres' ? () => fleetFacts(rt.backing.nodes, rt.store) : undefined,
    fleetTrace: fleetTraceOf(rt),
    sendMail: (mailFrom, rcptTo, bytes) => {
      const now = Date.now();
      return acceptor.acceptBytes(bytes, { receivedAt: now, envelope: { mailFrom, rcptTo }, prependHeaders: '', facts: { alert: true } }, 'deliver', alertTraceRow(mailFrom, rcptTo, now));
    },
  });
  rt.metrics.setAlertsSource(() => engine.openByKind());
  engine.start();
  return engine;
}
