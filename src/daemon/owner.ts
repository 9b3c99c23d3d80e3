/**
 * @module daemon/owner
 * The queue owner: the one process that recovers the spool, schedules deliveries (with the
 * delivery agent injected here, as Postfix's master.cf names the agent qmgr uses), and runs
 * the periodic trace retention job. Receive processes only add messages.
 * Touches: the spool, the SQLite store, next hops (through the agent).
 */
import { systemClock } from '../core/clock.ts';
import { QueueStore, Scheduler, Spool, createAcceptor, type Acceptor } from '../queue/index.ts';
import { buildBounce, createDeliveryAgent, type ClosableDeliveryAgent } from '../deliver/index.ts';
import { pruneTrace, retentionCutoff } from '../trace/index.ts';
import { insertMessageSync } from '../trace/index.ts';
import type { Acceptor as SmtpAcceptor } from '../smtp/deps.ts';
import type { Runtime } from './runtime.ts';

export interface QueueOwner {
  scheduler: Scheduler;
  agent: ClosableDeliveryAgent;
  close(): Promise<void>;
}

/** Open the spool and queue tables (any process that accepts mail needs these). */
export async function openQueue(rt: Runtime, notify: () => void): Promise<{ spool: Spool; store: QueueStore; acceptor: Acceptor; smtpAcceptor: SmtpAcceptor }> {
  const spool = new Spool(rt.paths.spool);
  await spool.init();
  const store = new QueueStore(rt.db);
  const acceptor = createAcceptor({ spool, store, clock: systemClock, logger: rt.logger, notify });
  // The trace row of an accepted message commits in the same transaction as its queue row.
  const smtpAcceptor: SmtpAcceptor = {
    begin: (id) => acceptor.begin(id),
    accept: (writer, meta, disposition, row) =>
      acceptor.accept(writer as ReturnType<Acceptor['begin']>, meta, disposition, undefined, (db, stored) =>
        insertMessageSync(db, { ...row, id: stored.id }),
      ),
  };
  return { spool, store, acceptor, smtpAcceptor };
}

/** Recover the spool and start delivering. */
export async function startQueueOwner(rt: Runtime, spool: Spool, store: QueueStore, acceptor: Acceptor): Promise<QueueOwner> {
  const cfg = rt.snapshot().config;
  const agent = createDeliveryAgent({ routes: () => rt.snapshot().config.routes, dataDir: rt.paths.dir, hostname: rt.hostname(), logger: rt.logger });
  const scheduler = new Scheduler({
    store,
    spool,
    agent,
    buildBounce,
    trace: rt.trace,
    clock: systemClock,
    logger: rt.logger,
    reportingMta: rt.hostname(),
    retryInitialSeconds: cfg.queue.retryInitialSeconds,
    retryMaxSeconds: cfg.queue.retryMaxSeconds,
    maxAgeSeconds: cfg.queue.maxAgeSeconds,
    activeWindow: cfg.queue.activeWindow,
    acceptor,
  });
  const report = await scheduler.recover();
  rt.logger.info({ report }, 'spool recovered');
  scheduler.start();
  const prune = (): void => {
    try {
      const n = pruneTrace(rt.db, retentionCutoff(rt.snapshot().config.trace.retentionDays, Date.now()));
      if (n.messages || n.events) rt.logger.info(n, 'trace retention: pruned');
    } catch (err) {
      rt.logger.warn({ err }, 'trace retention failed');
    }
  };
  prune();
  const timer = setInterval(prune, 3_600_000);
  timer.unref();
  return {
    scheduler,
    agent,
    async close() {
      clearInterval(timer);
      await scheduler.stop();
      await agent.close();
    },
  };
}
