/** Cumulative histogram buckets (Prometheus `le` semantics), ascending by upper bound. */
export type Buckets = ReadonlyArray<{ le: number; count: number }>;

/**
 * `after - before` per bucket: the observations made between two scrapes of the same histograms.
 * A bucket missing from `before` counts from 0 (the process had not observed it yet).
 */
export function bucketsDelta(before: Buckets, after: Buckets): Array<{ le: number; count: number }> {
  const base = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: b.count - (base.get(b.le) ?? 0) }));
}

/**
 * The upper bound of the bucket holding quantile `q` (0..1) of the observations: an upper estimate
 * with the histogram's resolution. +Infinity when it falls past the last finite bucket; NaN when
 * there are no observations.
 */
export function bucketQuantileUpperBound(buckets: Buckets, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within 0..1, got ${q}`);
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * total));
  for (const b of buckets) if (b.count >= rank) return b.le;
  return Number.POSITIVE_INFINITY;
}
