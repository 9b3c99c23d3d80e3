/**
 * @module daemon/owner
 * The queue owner: the one process that recovers the spool, schedules deliveries (with the
 * delivery agent injected here, as Postfix's master.cf names the agent qmgr uses), and runs
 * the periodic jobs (trace retention, the orphan scan, the trim of the spool's file pool). It is
 * the only process that writes the SQLite store while the gateway runs: receive workers register
 * accepted messages through it (daemon/ipc.ts).
 * Touches: the spool, the SQLite store, next hops (through the agent).
 */
import { join } from 'node:path';
import { systemClock } from '../core/clock.ts';
import { OutcomeJournal } from '../queue/outcome-journal.ts';
import { QueueStore, Scheduler, Spool, createAcceptor, expireQuarantine, finishReleases, localRegistrar, pruneFinalRows, registerOrphans, type Acceptor, type Admission, type Registrar, type RowHook } from '../queue/index.ts';
import { buildBounce, createDeliveryAgent, type ClosableDeliveryAgent } from '../deliver/index.ts';
import { notifyQuarantine } from '../ops/quarantine-notify.ts';
import { insertEventsSync, insertMessageSync, pruneTrace, retentionCutoff } from '../trace/index.ts';
import type { Acceptor as SmtpAcceptor } from '../smtp/deps.ts';
import type { Route } from '../config/schema.ts';
import type { Runtime } from './runtime.ts';
import { countingAgent } from './metrics-wiring.ts';
import { startAlerts } from './alerts-wiring.ts';
import { opsTrace } from './admin-listener.ts';
import { startHeartbeat } from './heartbeat.ts';
import { startTraceShipping, type FleetTrace, type TraceShipping } from './trace-shipping.ts';

export interface QueueOwner {
  scheduler: Scheduler;
  agent: ClosableDeliveryAgent;
  close(): Promise<void>;
}

/** What a process that accepts mail holds of the queue. */
export interface QueueParts {
  spool: Spool;
  acceptor: Acceptor;
  smtpAcceptor: SmtpAcceptor;
}

/** The owner's parts: the queue tables, and the registrar receive workers register through. */
export interface OwnerQueueParts extends QueueParts {
  store: QueueStore;
  registrar: Registrar;
  /** Where the registrar hands new rows straight into delivery: the scheduler, once it runs. */
  admission: { to?: Admission };
}

/** The trace row and events of an accepted message commit in the same transaction as its queue row. */
const traceRowHook: RowHook = (db, r) => {
  if (r.trace) insertMessageSync(db, r.trace);
  if (r.events && r.events.length > 0) insertEventsSync(db, r.events);
};

function smtpAcceptorOf(acceptor: Acceptor): SmtpAcceptor {
  return {
    begin: (id) => acceptor.begin(id),
    accept: (writer, meta, disposition, row, events) =>
      acceptor.accept(writer as ReturnType<Acceptor['begin']>, meta, disposition, row, events),
    acceptBytes: (bytes, meta, disposition, row) => acceptor.acceptBytes(bytes, meta, disposition, row),
  };
}

/** The spool as a gateway process opens it: a segment of its commit journal that cannot be settled is logged. */
function openSpool(rt: Runtime): Spool {
  const onError = (err: unknown, segment: string): void => rt.logger.error({ err, segment }, 'commit journal segment not settled: it stays and is replayed at the next start');
  return new Spool(rt.paths.spool, { journal: { onError, onFlush: (seconds) => rt.metrics.spoolFlush(seconds) } });
}

/** Open the spool and the queue tables in the process that owns them (the only SQLite writer). */
export async function openOwnerQueue(rt: Runtime, notify: () => void): Promise<OwnerQueueParts> {
  const spool = openSpool(rt);
  await spool.init();
  const store = new QueueStore(rt.db);
  const admission: { to?: Admission } = {};
  const registrar = localRegistrar(store, traceRowHook, () => admission.to);
  const acceptor = createAcceptor({ spool, registrar, clock: systemClock, logger: rt.logger, notify });
  return { spool, store, registrar, acceptor, smtpAcceptor: smtpAcceptorOf(acceptor), admission };
}

/**
 * Open the spool in a receive worker: registrations go to the owner through `registrar`, in the
 * background (the 250 waits for the durable file, not for the owner: queue/accept.ts).
 */
export async function openWorkerQueue(rt: Runtime, registrar: Registrar): Promise<QueueParts> {
  const spool = openSpool(rt);
  await spool.init();
  // A journal segment ready before the first message (journal.ts). Workers start after the
  // owner's recovery, which replays and deletes every segment it finds.
  spool.journal?.prepare();
  const acceptor = createAcceptor({ spool, registrar, clock: systemClock, logger: rt.logger, background: true });
  return { spool, acceptor, smtpAcceptor: smtpAcceptorOf(acceptor) };
}

/** How often the owner looks for acknowledged spool files whose registration never arrived. */
const ORPHAN_SCAN_MS = 30_000;
/** A finished message's file left unused in the spool's pool this long is unlinked (file-pool.ts). */
const FREE_IDLE_MS = 60_000;

/**
 * Recover the spool and start delivering; `registrar` also registers orphaned spool files. On a
 * fleet node (store.yaml names PostgreSQL, or `fleet` given), the local trace is shipped to the
 * shared PostgreSQL trace through the outbox.
 */
export async function startQueueOwner(rt: Runtime, q: OwnerQueueParts, fleet?: FleetTrace): Promise<QueueOwner> {
  const { spool, store, acceptor, registrar } = q;
  const cfg = rt.snapshot().config;
  const routes = (): Route[] => rt.snapshot().config.routes;
  const agent = countingAgent(
    createDeliveryAgent({
      routes,
      hopCountLimit: () => rt.snapshot().config.organization.hopCountLimit,
      dataDir: rt.paths.dir,
      hostname: rt.hostname(),
      logger: rt.logger,
    }),
    routes,
    rt.metrics,
  );
  // Before recovery: trace rows the recovery writes go through the outbox too.
  const b = rt.backing;
  const ship = fleet ?? (b.bootstrap.kind === 'postgres' && b.pool ? { pool: b.pool, schema: b.bootstrap.schema, node: rt.node } : undefined);
  const shipping: TraceShipping | undefined = ship ? startTraceShipping(rt, ship) : undefined;
  rt.metrics.setOwner({
    queueByState: () => store.countByState(),
    oldestOpenAgeSeconds: () => {
      const t = store.oldestOpenAt();
      return t === undefined ? 0 : Math.max(0, (Date.now() - t) / 1000);
    },
    traceBacklog: () => ('pending' in rt.trace && typeof rt.trace.pending === 'number' ? rt.trace.pending : 0),
    configVersion: () => rt.snapshot().version,
    configStoreUp: () => (rt.storeUp() ? 1 : 0),
    traceOutbox: () => {
      if (!shipping) return { rows: 0, lagSeconds: 0 };
      return { rows: shipping.shipper.backlog().rows, lagSeconds: shipping.shipper.lagSeconds() };
    },
  });

  // What next hops answered, before the store records it (a full disk must not make it deliver twice).
  const outcomes = new OutcomeJournal(join(rt.paths.spool, 'outcomes'), rt.logger);
  const scheduler = new Scheduler({
    outcomes,
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
    rowHook: traceRowHook,
  });
  const report = await scheduler.recover();
  rt.logger.info({ report }, 'spool recovered');
  // A release to some recipients that a crash cut short is finished (queue/release.ts), never repeated.
  const finished = await finishReleases({ store, spool, acceptor, now: Date.now });
  if (finished) rt.logger.warn({ finished }, 'quarantine: releases cut short by a crash finished');
  // Only now: the recovery above replays and deletes every journal segment it finds.
  spool.journal?.prepare();
  scheduler.start();
  q.admission.to = scheduler;
  const alerts = startAlerts(rt, store, acceptor);
  const heartbeat = startHeartbeat(rt, store);
  const prune = async (): Promise<void> => {
    const { trace, queue } = rt.snapshot().config;
    try {
      const n = pruneTrace(rt.db, retentionCutoff(trace.retentionDays, Date.now()));
      if (n.messages || n.events) rt.logger.info(n, 'trace retention: pruned');
      const rows = await pruneFinalRows(store, spool, Date.now() - queue.keepFinalHours * 3_600_000);
      if (rows) rt.logger.info({ rows }, 'queue index: delivered and bounced rows removed');
      const expired = await expireQuarantine(store, spool, Date.now() - rt.snapshot().config.quarantine.retentionDays * 86_400_000, (row) =>
        rt.trace.event({ messageId: row.id, at: Date.now(), event: 'DELETE', detail: 'quarantine retention expired' }),
      );
      if (expired) rt.logger.info({ expired }, 'quarantine: expired messages deleted');
    } catch (err) {
      rt.logger.warn({ err }, 'retention failed');
    }
  };
  void prune();
  const timer = setInterval(() => void prune(), 3_600_000);
  timer.unref();
  let scanning = false;
  const orphans = setInterval(() => {
    if (scanning) return;
    scanning = true;
    const scan = registerOrphans({ spool, store, register: registrar, now: Date.now, logger: rt.logger }).then(
      (n) => {
        if (n > 0) scheduler.wake();
      },
      (err: unknown) => rt.logger.warn({ err }, 'orphan scan failed'),
    );
    scan
      .then(() => spool.pool?.trim(FREE_IDLE_MS))
      .catch((err: unknown) => rt.logger.warn({ err }, 'spool pool trim failed'))
      .finally(() => (scanning = false));
  }, ORPHAN_SCAN_MS);
  orphans.unref();
  const notices = startQuarantineNotices(rt, acceptor);
  return {
    scheduler,
    agent,
    async close() {
      clearInterval(timer);
      clearInterval(orphans);
      clearInterval(notices);
      await alerts.stop();
      await heartbeat.stop();
      await scheduler.stop();
      await shipping?.stop();
      outcomes.close();
      await agent.close();
      await spool.close();
      rt.logger.info({ scheduler: scheduler.stats, outcomeJournal: outcomes.stats, spoolFiles: spool.pool?.stats, journal: spool.journal?.stats }, 'queue owner stopped');
    },
  };
}

/** How often the owner looks for quarantined mail whose recipients were not told yet. */
const NOTICE_SCAN_MS = 5_000;

/** Quarantine notifications (quarantine.notify): immediate ones every scan, a digest once a day. */
function startQuarantineNotices(rt: Runtime, acceptor: Acceptor): NodeJS.Timeout {
  const ctx = { db: rt.db, store: rt.store, dataDir: rt.paths.dir, actor: 'mailgate', trace: opsTrace(rt) };
  let lastDigest = 0;
  let running = false;
  const timer = setInterval(() => {
    const mode = rt.snapshot().config.quarantine.notify;
    if (running || mode === 'off' || (mode === 'daily' && Date.now() - lastDigest < 86_400_000)) return;
    running = true;
    notifyQuarantine(ctx, acceptor)
      .then(
        (n) => {
          lastDigest = Date.now();
          if (n) rt.logger.info({ notices: n }, 'quarantine notifications queued');
        },
        (err: unknown) => rt.logger.warn({ err }, 'quarantine notifications failed'),
      )
      .finally(() => (running = false));
  }, NOTICE_SCAN_MS);
  timer.unref();
  return timer;
}
