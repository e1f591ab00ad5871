/**
 * Dependency-free SVG charts for bench reports: `lineChart` (several series over a linear x axis,
 * with a legend) and `latencyChart` (latency percentile curves p0..p99.9 on a log-ish percentile
 * axis). Each returns one standalone SVG document (xmlns, escaped text, fixed viewBox).
 */
import { percentileOfSorted } from '../metrics/stats.js';

export type Point = readonly [x: number, y: number];

export interface LineSeries {
  label: string;
  points: readonly Point[];
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
}

/** One latency distribution: raw samples, or percentile points `[percentile 0..100, ms]`. */
export type LatencySeries =
  | { label: string; samplesMs: ArrayLike<number> }
  | { label: string; percentiles: readonly Point[] };

export interface LatencyChartSpec {
  title: string;
  series: readonly LatencySeries[];
}

export const WIDTH = 800;
export const HEIGHT = 440;
const PLOT = { left: 80, right: WIDTH - 190, top: 50, bottom: HEIGHT - 60 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
/** Percentiles drawn for a latency curve; the axis ends at p99.9. */
export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.8, 99.9] as const;
const PERCENTILE_TICKS = [0, 50, 90, 99, 99.9] as const;
const MAX_PERCENTILE = 99.9;

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Tick {
  value: number;
  label: string;
}

interface Axis {
  min: number;
  max: number;
  ticks: Tick[];
}

/** Axis from `min` to `max` rounded outward to a 1/2/5 x 10^k step, about `count` ticks. */
export function niceAxis(min: number, max: number, count = 5): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return niceAxis(0, 1, count);
  if (max - min < Number.EPSILON * Math.max(1, Math.abs(max))) {
    return niceAxis(
      min - (min === 0 ? 0 : Math.abs(min) / 2),
      max + (max === 0 ? 1 : Math.abs(max) / 2),
      count,
    );
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const start = Math.floor(min / step) * step;
  const end = Math.ceil(max / step) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks: Tick[] = [];
  for (let i = 0; start + i * step <= end + step / 1e6; i++) {
    const value = start + i * step;
    ticks.push({ value, label: value.toLocaleString('en-US', { maximumFractionDigits: decimals }) });
  }
  return { min: start, max: end, ticks };
}

/** Position of percentile `p` on the log-ish axis: 0 at p0, 1 at p90, 2 at p99, 3 at p99.9. */
export function percentilePosition(p: number): number {
  return Math.abs(Math.log10(1 - Math.min(p, MAX_PERCENTILE) / 100));
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10);

interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  x: Axis;
  y: Axis;
}

function render(spec: PlotSpec): string {
  const { x, y } = spec;
  const sx = (v: number): number => PLOT.left + ((v - x.min) / (x.max - x.min)) * (PLOT.right - PLOT.left);
  const sy = (v: number): number => PLOT.bottom - ((v - y.min) / (y.max - y.min)) * (PLOT.bottom - PLOT.top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="13">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  for (const t of x.ticks) {
    const px = fmt(sx(t.value));
    out.push(
      `<line x1="${px}" y1="${PLOT.top}" x2="${px}" y2="${PLOT.bottom}" stroke="#e5e5e5"/>`,
      `<text x="${px}" y="${PLOT.bottom + 18}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  }
  for (const t of y.ticks) {
    const py = fmt(sy(t.value));
    out.push(
      `<line x1="${PLOT.left}" y1="${py}" x2="${PLOT.right}" y2="${py}" stroke="#e5e5e5"/>`,
      `<text x="${PLOT.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(t.label)}</text>`,
    );
  }
  out.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#333333"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${HEIGHT - 18}" text-anchor="middle" font-size="14">${escapeXml(spec.xLabel)}</text>`,
    `<text x="20" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" font-size="14" transform="rotate(-90 20 ${(PLOT.top + PLOT.bottom) / 2})">${escapeXml(spec.yLabel)}</text>`,
  );
  spec.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length];
    const points = series.points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py));
    const coords = points.map(([px, py]) => `${fmt(sx(px))},${fmt(sy(py))}`);
    if (coords.length > 0) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${coords.join(' ')}"/>`);
    }
    if (coords.length <= 60) {
      for (const c of coords) {
        const [cx, cy] = c.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
      }
    }
    const ly = PLOT.top + 10 + i * 22;
    out.push(
      `<line x1="${PLOT.right + 15}" y1="${ly}" x2="${PLOT.right + 40}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${PLOT.right + 46}" y="${ly}" dominant-baseline="middle">${escapeXml(series.label)}</text>`,
    );
  });
  if (spec.series.every((s) => s.points.length === 0)) {
    out.push(
      `<text x="${(PLOT.left + PLOT.right) / 2}" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" fill="#777777">no data</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function finite(series: readonly LineSeries[], pick: 0 | 1): number[] {
  return series.flatMap((s) => s.points.map((p) => p[pick])).filter(Number.isFinite);
}

/** Line chart of several series over linear axes (the y axis starts at 0 unless a value is negative). */
export function lineChart(spec: LineChartSpec): string {
  const xs = finite(spec.series, 0);
  const ys = finite(spec.series, 1);
  return render({
    ...spec,
    x: xs.length > 0 ? niceAxis(Math.min(...xs), Math.max(...xs)) : niceAxis(0, 1),
    y: niceAxis(Math.min(0, ...ys), ys.length > 0 ? Math.max(...ys) : 1),
  });
}

/** `[percentile, value]` at CURVE_PERCENTILES of `samples` (any order); empty for no samples. */
export function percentileCurve(samples: ArrayLike<number>): Point[] {
  const sorted = Float64Array.from(samples).sort();
  if (sorted.length === 0) return [];
  return CURVE_PERCENTILES.map((p) => [p, percentileOfSorted(sorted, p)] as const);
}

/** Latency percentile curves (x: p0..p99.9 on a log-ish axis, y: ms), one per series. */
export function latencyChart(spec: LatencyChartSpec): string {
  const series: LineSeries[] = spec.series.map((s) => ({
    label: s.label,
    points: ('samplesMs' in s ? percentileCurve(s.samplesMs) : s.percentiles)
      .filter(([p]) => p <= MAX_PERCENTILE)
      .map(([p, ms]) => [percentilePosition(p), ms] as const),
  }));
  const ys = finite(series, 1);
  return render({
    title: spec.title,
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    series,
    x: {
      min: 0,
      max: percentilePosition(MAX_PERCENTILE),
      ticks: PERCENTILE_TICKS.map((p) => ({ value: percentilePosition(p), label: `p${p}` })),
    },
    y: niceAxis(0, ys.length > 0 ? Math.max(...ys) : 1),
  });
}
