/**
 * @module daemon/metrics-link
 * With `serve --workers N`, one scrape of the queue owner's `GET /metrics` holds every receive
 * worker's series: the primary asks each worker over the cluster IPC channel that already links
 * them (ipc.ts, limits-link.ts) and sums the answers with its own (metrics/aggregate.ts).
 * Why not prom-client's AggregatorRegistry.clusterMetrics(): it waits for every worker and fails
 * the whole scrape after 5 s when one is busy or gone; here the wait is bounded (SCRAPE_WAIT_MS)
 * and a worker that did not answer is left out and counted (`mailgate_scrape_workers{state="missing"}`),
 * so a stuck or dying worker never hangs or fails a scrape.
 *   primary → worker: {mg:'metq', n}     worker → primary: {mg:'metr', n, m: <registry JSON>}
 * Touches: the cluster IPC channel.
 */
import type { Registry } from 'prom-client';
import { mergedExposition, type MetricsJson } from '../metrics/index.ts';

interface AskMsg {
  mg: 'metq';
  n: number;
}
interface AnswerMsg {
  mg: 'metr';
  n: number;
  m: MetricsJson;
}
const isAsk = (m: unknown): m is AskMsg => typeof m === 'object' && m !== null && (m as AskMsg).mg === 'metq';
const isAnswer = (m: unknown): m is AnswerMsg => typeof m === 'object' && m !== null && (m as AnswerMsg).mg === 'metr' && Array.isArray((m as AnswerMsg).m);

/** How long a scrape waits for the workers' series. */
export const SCRAPE_WAIT_MS = 1000;

/** Worker side: answer the primary's questions with this process's registry. */
export function answerMetrics(proc: NodeJS.Process, registry: Registry): void {
  proc.on('message', (m: unknown) => {
    if (!isAsk(m)) return;
    void registry.getMetricsAsJSON().then((json) => {
      if (proc.connected) proc.send?.({ mg: 'metr', n: m.n, m: json } satisfies AnswerMsg, () => undefined);
    });
  });
}

/** The primary's end of one worker's channel (a cluster Worker is one). */
export interface MetricsChannel {
  on(event: 'message', listener: (m: unknown) => void): unknown;
  send(message: AskMsg, callback: (err: Error | null) => void): unknown;
  isConnected(): boolean;
}

/** Primary side: the merged exposition of its own registry and every live worker's. */
export class MetricsGatherer {
  private seq = 0;
  private readonly workers = new Set<MetricsChannel>();
  private readonly waiting = new Map<number, (w: MetricsChannel, m: MetricsJson) => void>();

  constructor(
    private readonly local: Registry,
    private readonly waitMs = SCRAPE_WAIT_MS,
  ) {}

  /** Follow one worker (until it exits: `forget`). */
  add(w: MetricsChannel): void {
    this.workers.add(w);
    w.on('message', (m: unknown) => {
      if (isAnswer(m)) this.waiting.get(m.n)?.(w, m.m);
    });
  }

  forget(w: MetricsChannel): void {
    this.workers.delete(w);
  }

  /** Ask every connected worker; resolves when all answered or the wait is over. */
  async scrape(): Promise<string> {
    const n = ++this.seq;
    const asked = [...this.workers].filter((w) => w.isConnected());
    const got = new Map<MetricsChannel, MetricsJson>();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.waitMs);
      t.unref();
      const done = (): void => {
        if (got.size < asked.length) return;
        clearTimeout(t);
        resolve();
      };
      this.waiting.set(n, (w, m) => {
        got.set(w, m);
        done();
      });
      for (const w of asked) w.send({ mg: 'metq', n }, () => undefined);
      done();
    });
    this.waiting.delete(n);
    const missing = this.workers.size - got.size;
    return mergedExposition(this.local, [...got.values()], missing);
  }
}
