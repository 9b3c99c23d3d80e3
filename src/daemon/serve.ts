/**
 * @module daemon/serve
 * `mailgate serve`: the gateway. With --workers 1, one process receives and delivers. With more,
 * node:cluster runs the receive connectors in N workers (connections spread across cores) and
 * the primary is the single queue owner: it recovers the spool before any worker starts (so a
 * recovery scan never races a message being written), then schedules delivery. Workers make each
 * message's spool file durable themselves and send its registration (queue row, trace row,
 * events) to the owner, the only SQLite writer, which acks after its group commit (ipc.ts).
 * Signals (from any parent: a service manager, a shell, npm): SIGTERM/SIGINT stop listening, let
 * open sessions finish, flush the trace, exit 0 (the primary stops its workers first); SIGHUP
 * loads the newest configuration version now (the primary passes it to its workers). A worker
 * whose primary is gone (kill -9) stops too: no listener outlives the gateway.
 * Start is all or nothing (daemon/startup): a listener that cannot listen stops it (StartupError).
 * The primary writes `<data>/serve.pid` (daemon/pidfile.ts) and removes it at a clean stop.
 * Touches: everything, through the modules it wires.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createLogger } from '../core/log.ts';
import { ensureSelfSigned } from '../smtp/certs.ts';
import { apiDeps, startAdminListener, type AdminListener } from './admin-listener.ts';
import { answerMetrics, MetricsGatherer } from './metrics-link.ts';
import { mergedExposition } from '../metrics/index.ts';
import type { SmtpDeps } from '../smtp/deps.ts';
import { openRuntime, type Runtime, type RuntimeOptions } from './runtime.ts';
import type { ListenOverride } from '../config/index.ts';
import { openOwnerQueue, openWorkerQueue, startQueueOwner } from './owner.ts';
import { OwnerLink, serveWorkerLink } from './ipc.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import { awaitWorkersStarted, reportStartup } from './startup.ts';
import { createAuthService } from './auth.ts';
// Not deliver/index.ts: a receive worker needs only the probe, not the SMTP client (nodemailer) behind it.
import { createRecipientVerifier } from '../deliver/recipient-probe.ts';
import { defaultMxResolver } from '../deliver/mx.ts';
import { connectionCap, raiseFdLimit, readFdLimits } from './fd-limit.ts';
import { AuthThrottle } from '../smtp/auth-throttle.ts';
import { FreeSpaceGauge } from '../queue/free-space.ts';
import { LimitsLink, LimitsServer } from './limits-link.ts';
import { writePidFile } from './pidfile.ts';
import { countingAcceptor, countingTrace } from './metrics-wiring.ts';

export interface ServeOptions {
  data: string;
  /** Receive processes; 0 = one per core; 1 = a single process. */
  workers: number;
  /** This node's name in a fleet (default: the host name). */
  node?: string | undefined;
  /** This node's listener addresses (`--listen NAME=HOST:PORT`). */
  listen?: ListenOverride[] | undefined;
}

function runtimeOptions(opts: ServeOptions): RuntimeOptions {
  return { ...(opts.node ? { node: opts.node } : {}), ...(opts.listen ? { listen: opts.listen } : {}) };
}

/** `limits`: a receive worker's link to the primary, where the per-client counts and the AUTH throttle live. */
function smtpDeps(rt: Runtime, acceptor: SmtpDeps['acceptor'], limits?: LimitsLink): SmtpDeps {
  const auth = createAuthService(rt);
  rt.metrics.addDnsSource(() => auth.resolver.stats());
  const throttle = limits ? undefined : new AuthThrottle(() => rt.snapshot().config.authThrottle);
  const space = new FreeSpaceGauge(rt.paths.dir, () => rt.snapshot().config.queue.minFreeMegabytes * 1024 * 1024);
  const stats = setInterval(() => {
    rt.logger.info({ dns: auth.resolver.stats(), spf: auth.spfCache.stats(), dmarc: auth.dmarcCache.stats() }, 'dns cache');
    if (throttle && throttle.stats.failures > 0) rt.logger.info({ authThrottle: throttle.stats }, 'AUTH failures');
  }, 60_000);
  stats.unref();
  return {
    authThrottle: limits?.auth ?? throttle,
    connections: limits?.connections,
    storageLow: () => space.isLow(),
    // Workers inherit the primary's raised limit (raiseFdLimit before fork); each has its own descriptors.
    maxConnectionsCap: connectionCap(rt.snapshot().config, readFdLimits(), rt.logger),
    authenticate: auth.authenticate,
    checkSpf: auth.checkSpf,
    snapshot: () => rt.snapshot(),
    acceptor: countingAcceptor(acceptor, rt.metrics),
    trace: countingTrace(rt.trace, rt.metrics),
    metrics: rt.metrics,
    logger: rt.logger,
    get hostname() {
      return rt.hostname();
    },
    verifyPassword: (u, p) => rt.verifyPassword(u, p),
    verifyRecipient: createRecipientVerifier({ routes: () => rt.snapshot().config.routes, hostname: rt.hostname(), resolveMx: defaultMxResolver }),
    dataDir: rt.paths.dir,
    now: () => Date.now(),
  };
}

function onSignals(stop: () => Promise<void>, reload: () => void): void {
  let stopping = false;
  process.on('SIGHUP', () => {
    if (!stopping) reload();
  });
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** SIGHUP: the newest configuration version now (a version that does not compile is logged and skipped). */
function reload(rt: Runtime): void {
  void rt.reload().then(() => rt.logger.info({ version: rt.snapshot().version }, 'configuration reloaded (SIGHUP)'));
}

/** Run the gateway until a signal stops it. */
export async function serve(opts: ServeOptions): Promise<void> {
  const workers = opts.workers === 0 ? availableParallelism() : opts.workers;
  if (workers <= 1) return serveSingle(opts);
  if (cluster.isPrimary) {
    // Let the kernel hand connections to the workers (they share the listening socket) instead of
    // the primary accepting each one and passing it over IPC: measured with bench/ on 2 cores,
    // ~20 % more messages/s and a banner ~1 ms sooner, because the primary is also the queue owner
    // and every hop through it costs. NODE_CLUSTER_SCHED_POLICY=rr restores round-robin.
    if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
    return servePrimary(opts, workers);
  }
  return serveWorker(opts);
}

async function serveSingle(opts: ServeOptions): Promise<void> {
  const logger = createLogger('mailgate');
  raiseFdLimit(logger);
  const rt = await openRuntime(opts.data, logger, runtimeOptions(opts));
  let wake = (): void => undefined;
  const q = await openOwnerQueue(rt, () => wake());
  const owner = await startQueueOwner(rt, q);
  wake = () => owner.scheduler.wakeForNew();
  const receiver = await startReceiver(rt, smtpDeps(rt, q.smtpAcceptor)).catch(async (err: unknown) => {
    await owner.close();
    await rt.close();
    throw err;
  });
  // The journal flush on the loop only while it would hold up nobody: one session open (or none)
  // and, as deliveries share this loop, none in flight.
  q.spool.journal?.flushOnLoopWhen(() => receiver.openSessions() <= 1 && owner.scheduler.activeCount === 0);
  const admin = await startAdminListener(rt, apiDeps(rt, () => mergedExposition(rt.metrics.registry, [], 0))).catch(async (err: unknown) => {
    await receiver.close();
    await owner.close();
    await rt.close();
    throw err;
  });
  const unlinkPid = writePidFile(rt.paths.dir);
  logger.info({ version: rt.snapshot().version, workers: 1 }, 'mailgate ready');
  onSignals(
    async () => {
      await admin?.close();
      await receiver.close();
      await owner.close();
      await rt.close();
      unlinkPid();
    },
    () => reload(rt),
  );
}

async function servePrimary(opts: ServeOptions, workers: number): Promise<void> {
  const logger = createLogger('mailgate-primary');
  raiseFdLimit(logger); // before fork: the workers inherit it
  const rt = await openRuntime(opts.data, logger, runtimeOptions(opts));
  ensureSelfSigned(rt.paths.dir, rt.hostname());
  let wake = (): void => undefined;
  const q = await openOwnerQueue(rt, () => wake()); // bounces the owner queues itself
  const owner = await startQueueOwner(rt, q);
  wake = () => owner.scheduler.wakeForNew();
  let stopping = false;
  // The per-client connection counts and the AUTH throttle of every worker (limits-link.ts).
  const limits = new LimitsServer(new AuthThrottle(() => rt.snapshot().config.authThrottle));
  const throttleLog = setInterval(() => {
    if (limits.throttle.stats.failures > 0) logger.info({ authThrottle: limits.throttle.stats }, 'AUTH failures');
  }, 60_000);
  throttleLog.unref();
  // Every worker's series in the owner's scrape (metrics-link.ts).
  const gatherer = new MetricsGatherer(rt.metrics.registry);
  // Each ack hands the worker as many reusable spool files as it just used (queue/file-pool.ts).
  const fork = (): Worker => {
    const w = cluster.fork();
    serveWorkerLink(w, q.registrar, rt.trace, wake, (n) => q.spool.pool?.handOut(n) ?? []);
    limits.serve(w);
    gatherer.add(w);
    w.once('exit', () => gatherer.forget(w));
    return w;
  };
  const started = awaitWorkersStarted(Array.from({ length: workers }, fork));
  const replays = new Set<Promise<void>>();
  cluster.on('exit', (w, code, signal) => {
    // What the worker acknowledged may sit in its commit journal only (a kill -9): settle it.
    const pid = w.process.pid;
    if (pid !== undefined) {
      const replay: Promise<void> = q.spool
        .replayJournal(q.store.isFinalRow, (segment) => segment.startsWith(`${pid}.`))
        .then((r) => void (r.segments > 0 && logger.info({ worker: pid, ...r }, 'commit journal of a stopped receive worker settled')))
        .catch((err: unknown) => logger.error({ err, worker: pid }, 'commit journal of a stopped receive worker not settled: replayed at the next start'))
        .finally(() => replays.delete(replay));
      replays.add(replay);
    }
    // A worker that dies while starting fails the start (awaitWorkersStarted): no replacement. One
    // that had started is replaced, once the others have started too.
    if (stopping) return;
    logger.error({ pid, code, signal }, 'receive worker died; starting another');
    void started.then(
      () => void (stopping || setTimeout(fork, 500).unref()),
      () => undefined,
    );
  });
  const reloadAll = (): void => {
    reload(rt);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  };
  let unlinkPid = (): void => undefined;
  let admin: AdminListener | undefined;
  const stop = async (): Promise<void> => {
    stopping = true;
    await admin?.close();
    const exits = Object.values(cluster.workers ?? {}).map(
      (w) => new Promise<void>((resolve) => (w?.isDead() ? resolve() : w?.once('exit', () => resolve()))),
    );
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    await Promise.all(exits);
    await Promise.all([...replays]);
    await owner.close();
    await rt.close();
    unlinkPid();
  };
  // Signals are handled from the first fork: a SIGTERM while workers start still stops cleanly.
  onSignals(stop, reloadAll);
  try {
    await started;
  } catch (err) {
    if (stopping) return; // a signal stopped us while the workers started
    await stop();
    throw err;
  }
  try {
    admin = await startAdminListener(rt, apiDeps(rt, () => gatherer.scrape()));
  } catch (err) {
    await stop();
    throw err;
  }
  unlinkPid = writePidFile(rt.paths.dir);
  logger.info({ version: rt.snapshot().version, workers }, 'mailgate ready');
}

async function serveWorker(opts: ServeOptions): Promise<void> {
  const logger = createLogger('mailgate-worker');
  // The primary is gone (kill -9): stop taking mail; what was acknowledged is on disk already.
  // Listened for from the start: a primary killed while this worker still starts stops it too.
  let receiver: Receiver | undefined;
  let spoolClose = (): Promise<void> => Promise.resolve();
  process.on('disconnect', () => {
    void (receiver?.close() ?? Promise.resolve())
      .then(() => spoolClose())
      .finally(() => process.exit(0));
  });
  const link = new OwnerLink(process);
  const rt = await openRuntime(opts.data, logger, { ...runtimeOptions(opts), seed: false, trace: link.trace });
  answerMetrics(process, rt.metrics.registry);
  const q = await openWorkerQueue(rt, link.register);
  link.freeFiles = (names) => q.spool.pool?.give(names);
  spoolClose = () => q.spool.close();
  let started: Receiver;
  try {
    started = await startReceiver(rt, smtpDeps(rt, q.smtpAcceptor, new LimitsLink(process)));
    receiver = started;
  } catch (err) {
    // The primary says it (once) and stops every worker.
    await reportStartup(err);
    process.exit(1);
  }
  await reportStartup();
  // One session open (or none): nobody else on this loop waits while its journal flush runs there.
  q.spool.journal?.flushOnLoopWhen(() => started.openSessions() <= 1);
  onSignals(
    async () => {
      await started.close();
      await q.spool.close();
      logger.info({ spoolFiles: q.spool.pool?.stats, journal: q.spool.journal?.stats }, 'receive worker stopped');
      await rt.close();
    },
    () => reload(rt),
  );
}
