/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class PromParseError extends Error {
  override readonly name = 'PromParseError';
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function parseValue(raw: string): number {
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(raw); // NaN stays NaN
}

function parseLabels(raw: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let match: RegExpExecArray | null = LABEL.exec(raw);
  let consumed = 0;
  while (match !== null) {
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    consumed = LABEL.lastIndex;
    match = LABEL.exec(raw);
  }
  if (consumed !== raw.length) throw new PromParseError(`bad labels in "${line}"`);
  return labels;
}

/**
 * Parses the samples of a Prometheus text exposition (as prom-client serves it on /metrics);
 * comments and blank lines are skipped. Throws PromParseError on a line it cannot read.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new PromParseError(`cannot read metrics line "${line}"`);
    samples.push({
      name: match[1]!,
      labels: parseLabels(match[2] ?? '', line),
      value: parseValue(match[3]!),
    });
  }
  return samples;
}

/** The samples a /metrics endpoint serves; rejects unless it answers 200 within `timeoutMs`. */
export async function scrapePrometheus(url: string, timeoutMs: number): Promise<PromSample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return parsePrometheusText(await res.text());
}

/** Sum of the samples named `name` whose labels include every pair of `match`; 0 when none. */
export function sumSamples(
  samples: readonly PromSample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** Whether any sample is named `name`. */
export function hasSample(samples: readonly PromSample[], name: string): boolean {
  return samples.some((s) => s.name === name);
}

/**
 * A histogram's cumulative bucket counts by upper bound (`le`), summed over the label sets that
 * include every pair of `match`, ascending.
 */
export function histogramBuckets(
  samples: readonly PromSample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): Array<{ le: number; count: number }> {
  const byLe = new Map<number, number>();
  const pairs = Object.entries(match);
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    if (!pairs.every(([k, v]) => s.labels[k] === v)) continue;
    const le = parseValue(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count }));
}
