/**
 * An api-latency run as the API itself timed it: the difference of two scrapes of its request
 * duration histogram (from the request's arrival in the API process to its answer). Next to the
 * generator's latencies, it tells the server's share of a tail from the time a request spent in
 * the kernel's queues and in the generator (both on the same shared cores).
 */
import { type Buckets, bucketQuantileUpperBound, bucketsDelta } from '../metrics/histogram.js';
import { histogramBuckets, scrapePrometheus } from '../metrics/prometheus-text.js';

/** The API's request-duration histogram (seconds), labelled by route template, method and status. */
const API_DURATION = 'opamp_api_request_duration_seconds';
const SCRAPE_TIMEOUT_MS = 5000;

/** The requests of one run as the API timed them (its answers 200 of one route). */
export interface InsideApi {
  requests: number;
  /** Share (0..1) of them answered in more than `limitMs` (a bucket bound of the histogram). */
  overLimitShare: number;
  /** The bucket bound (ms) holding their p99: the API's own p99 is at most this; null past the last bound. */
  p99AtMostMs: number | null;
}

/** The API's cumulative duration buckets of `route`'s 200 answers, scraped from its ops port. */
export async function scrapeApiDurations(metricsUrl: string, route: string): Promise<Buckets> {
  const samples = await scrapePrometheus(metricsUrl, SCRAPE_TIMEOUT_MS);
  return histogramBuckets(samples, API_DURATION, { route, status: '200' });
}

/** The requests observed between two scrapes, judged against `limitMs`. */
export function insideApi(before: Buckets, after: Buckets, limitMs: number): InsideApi {
  const delta = bucketsDelta(before, after);
  const total = delta.at(-1)?.count ?? 0;
  const bound = delta.find((b) => Math.abs(b.le * 1000 - limitMs) < 1e-9);
  if (bound === undefined) throw new RangeError(`the API's histogram has no bucket bound at ${limitMs} ms`);
  const p99 = bucketQuantileUpperBound(delta, 0.99);
  return {
    requests: total,
    overLimitShare: total === 0 ? 0 : (total - bound.count) / total,
    p99AtMostMs: Number.isFinite(p99) ? p99 * 1000 : null,
  };
}
