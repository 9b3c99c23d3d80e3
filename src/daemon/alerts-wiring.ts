/**
 * @module daemon/alerts-wiring
 * Starts the alert engine (alerts/engine.ts) in the queue owner, the one process that evaluates
 * alerts: it reads the trace and the queue tables, queues alert mail through the gateway's own
 * acceptor (as the scheduler queues a bounce), and feeds `mailgate_alerts_open` to the metrics.
 * Touches: the SQLite store, the queue (through the acceptor).
 */
import { AlertEngine } from '../alerts/index.ts';
import type { Acceptor, QueueStore } from '../queue/index.ts';
import type { TraceMessage } from '../trace/index.ts';
import type { Runtime } from './runtime.ts';
import { fleetFacts } from '../ops/nodes.ts';

/** The trace row of an alert message we generate (a local source, like a bounce). */
function alertTraceRow(mailFrom: string, rcptTo: string[], now: number): TraceMessage {
  return { id: '', connectionId: 'local', receivedAt: now, clientIp: '127.0.0.1', listener: 'alerts', mailFrom, recipients: rcptTo, subject: 'mailgate alert', status: 'Pending', source: 'gateway' };
}

export function startAlerts(rt: Runtime, store: QueueStore, acceptor: Acceptor): AlertEngine {
  const engine = new AlertEngine({
    db: rt.db,
    config: () => rt.snapshot().config,
    now: Date.now,
    logger: rt.logger.child({ component: 'alerts' }),
    hostname: () => rt.hostname(),
    queue: () => ({ byState: store.countByState(), oldestOpenAt: store.oldestOpenAt() }),
    // Only a fleet has other nodes to watch; on one node its own heartbeat would say nothing new.
    fleet: rt.backing.bootstrap.kind === 'postgres' ? () => fleetFacts(rt.backing.nodes, rt.store) : undefined,
    sendMail: (mailFrom, rcptTo, bytes) => {
      const now = Date.now();
      return acceptor.acceptBytes(bytes, { receivedAt: now, envelope: { mailFrom, rcptTo }, prependHeaders: '', facts: { alert: true } }, 'deliver', alertTraceRow(mailFrom, rcptTo, now));
    },
  });
  rt.metrics.setAlertsSource(() => engine.store.openByKind());
  engine.start();
  return engine;
}
