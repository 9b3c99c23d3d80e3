/**
 * @module daemon/heartbeat
 * The queue owner's heartbeat to the node store every HEARTBEAT_MS: this node's name, release,
 * the configuration version in force and the queue depth (messages not yet delivered or bounced).
 * A heartbeat the store does not take is dropped (the configuration watch already says the store
 * is down); the next one replaces it. One runs at a time.
 * Touches: the node store (writes this node's row).
 */
import { HEARTBEAT_MS } from '../config/index.ts';
import { isFinal, type QueueState, type QueueStore } from '../queue/index.ts';
import { releaseVersion } from './release.ts';
import type { Runtime } from './runtime.ts';

/** Messages in states that are not final. */
export function queueDepth(byState: Record<QueueState, number>): number {
  return Object.entries(byState).reduce((n, [s, c]) => (isFinal(s as QueueState) ? n : n + c), 0);
}

export interface HeartbeatHandle {
  /** Send one now (resolves when the store answered or refused). */
  beat(): Promise<void>;
  stop(): Promise<void>;
}

export function startHeartbeat(rt: Runtime, store: QueueStore, intervalMs = HEARTBEAT_MS): HeartbeatHandle {
  const startedAt = Date.now();
  let running: Promise<void> | undefined;
  const beat = (): Promise<void> =>
    (running ??= rt.backing.nodes
      .heartbeat({ name: rt.node, softwareVersion: releaseVersion(), configVersion: rt.snapshot().version, queueDepth: queueDepth(store.countByState()), startedAt })
      .catch((err: unknown) => rt.logger.debug({ err }, 'heartbeat not recorded'))
      .finally(() => (running = undefined)));
  void beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  // A new version in force is reported at once: `node list` and the lag alert see it without waiting.
  rt.onChange(() => void beat());
  return {
    beat,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
