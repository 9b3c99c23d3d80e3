/**
 * @module metrics/aggregate
 * One scrape for the whole gateway: the queue owner's series and every receive worker's, summed
 * per label set with prom-client's `AggregatorRegistry.aggregate` (counters and histograms add up;
 * each gauge declares its own aggregator). The workers' series arrive over the cluster IPC link
 * (daemon/metrics-link.ts) within a bounded wait; a worker that did not answer in time is counted
 * in `mailgate_scrape_workers{state="missing"}` rather than holding the scrape.
 * Touches: nothing.
 */
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** A registry's series as JSON (`registry.getMetricsAsJSON()`), the form workers send. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** The content type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** The exposition text of `local` plus every worker's series; `missing` workers did not answer. */
export async function mergedExposition(local: Registry, workers: readonly MetricsJson[], missing: number): Promise<string> {
  const scrape = {
    name: 'mailgate_scrape_workers',
    help: 'Receive workers whose series this scrape holds (answered) or lacks (missing: busy or gone past the wait).',
    type: 'gauge',
    aggregator: 'sum',
    values: [
      { labels: { state: 'answered' }, value: workers.length },
      { labels: { state: 'missing' }, value: missing },
    ],
  } as unknown as MetricObjectWithValues<MetricValue<string>>; // the JSON shape aggregate() reads
  const all: MetricsJson[] = [await local.getMetricsAsJSON(), ...workers, [scrape]];
  return AggregatorRegistry.aggregate(all).metrics();
}
