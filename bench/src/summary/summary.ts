import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CaseFigureSpec, FIGURES, type FigureSpec, type Unit } from './figures.js';

/** A result file as `pnpm bench` writes it: only the fields every scenario shares are assumed. */
export interface StoredReport {
  file: string;
  scenario: string;
  startedAt: string;
  complete: boolean;
  command?: string;
  environment?: {
    cpuModel?: string;
    cpuCount?: number;
    nodeVersion?: string;
    os?: string;
    gitCommit?: string | null;
    gitDirty?: boolean | null;
    loadAverage1m?: number;
    hostSpeed?: { roundMedianMs?: number };
  };
  [key: string]: unknown;
}

/** One row of the results table. */
export interface SummaryRow {
  scenario: string;
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
}

/** Reads every `*.json` result in `dir` and keeps one run per scenario (see `rank`). */
export async function latestReports(dir: string): Promise<StoredReport[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  const byScenario = new Map<string, StoredReport>();
  for (const name of names) {
    const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as Partial<StoredReport>;
    if (typeof parsed.scenario !== 'string' || typeof parsed.startedAt !== 'string') continue;
    const report = { ...parsed, file: name } as StoredReport;
    const kept = byScenario.get(report.scenario);
    if (kept === undefined || rank(report) > rank(kept)) byScenario.set(report.scenario, report);
  }
  return [...byScenario.values()].sort((a, b) => order(a.scenario) - order(b.scenario));
}

/**
 * The command without the options that only say where and how the result is written (`--out DIR`,
 * `--json`): they do not change what is measured.
 */
export function measuredCommand(command: string | undefined): string | undefined {
  return command
    ?.replace(/\s--out(?:=|\s+)\S+/g, '')
    .replace(/\s--json\b/g, '')
    .trim();
}

/**
 * Complete runs first, then runs with the scenario's default settings (`pnpm bench <scenario>`,
 * whatever `--out` or `--json`), then the newest.
 */
const rank = (r: StoredReport): string =>
  `${r.complete ? 1 : 0}${measuredCommand(r.command) === `pnpm bench ${r.scenario}` ? 1 : 0}${r.startedAt}`;

const order = (scenario: string): number => {
  const i = Object.keys(FIGURES).indexOf(scenario);
  return i === -1 ? Number.MAX_SAFE_INTEGER : i;
};

/** The value at a dotted path (`a.b.0.c`), or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

const numberAt = (root: unknown, path: string | undefined): number | null => {
  if (path === undefined) return null;
  const value = valueAt(root, path);
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};

/** Prints `value` in `unit` for the table. */
export function formatValue(value: number, unit: Unit): string {
  const fixed = (digits: number, x: number) =>
    x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  switch (unit) {
    case 'count':
      return fixed(0, value);
    case 'rate':
      return `${fixed(0, value)}/s`;
    case 'ms':
      return value >= 1000 ? `${fixed(2, value / 1000)} s` : `${fixed(value < 10 ? 2 : 0, value)} ms`;
    case 's':
      return `${fixed(2, value)} s`;
    case 'kib':
      return `${fixed(2, value / 1024)} KiB`;
    case 'mib':
      return `${fixed(0, value / 1048576)} MiB`;
    case 'us':
      return `${fixed(0, value)} µs`;
    case 'percent':
      return `${fixed(1, value * 100)} %`;
  }
}

function figureRow(report: unknown, scenario: string, spec: FigureSpec, prefix = ''): SummaryRow | null {
  const value = numberAt(report, spec.value);
  if (value === null) return null;
  const baseline = numberAt(report, spec.baseline);
  const met = spec.target?.met === undefined ? undefined : valueAt(report, spec.target.met);
  return {
    scenario,
    figure: `${prefix}${spec.label}`,
    value: formatValue(value, spec.unit),
    baseline: baseline === null ? '' : formatValue(baseline, spec.unit),
    ratio: baseline === null || baseline === 0 ? '' : `${(value / baseline).toFixed(2)}x`,
    target:
      spec.target === undefined
        ? ''
        : `${spec.target.text}${met === true ? ' ✅' : met === false ? ' ❌' : ''}`,
  };
}

const isCaseSpec = (spec: FigureSpec | CaseFigureSpec): spec is CaseFigureSpec => 'cases' in spec;

/** The table rows of one report (none when its scenario has no figures). */
export function rowsOf(report: StoredReport): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const spec of FIGURES[report.scenario] ?? []) {
    if (!isCaseSpec(spec)) {
      const row = figureRow(report, report.scenario, spec);
      if (row !== null) rows.push(row);
      continue;
    }
    const cases = valueAt(report, spec.cases);
    if (!Array.isArray(cases)) continue;
    for (const item of cases as Array<Record<string, unknown>>) {
      for (const figure of spec.figures) {
        const row = figureRow(item, report.scenario, figure, `${spec.label(item)}: `);
        if (row !== null) rows.push(row);
      }
    }
  }
  return rows;
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The Markdown results table of `reports`, with the machine and, per scenario, its run. */
export function formatSummary(all: readonly StoredReport[]): string {
  const reports = all.filter((r) => rowsOf(r).length > 0);
  const machines = new Set(
    reports.map((r) => {
      const e = r.environment ?? {};
      return `${e.cpuCount ?? '?'} × ${e.cpuModel ?? 'unknown CPU'}, ${e.os ?? 'unknown OS'}, Node ${e.nodeVersion ?? '?'}`;
    }),
  );
  const lines = [
    '| scenario | figure | opamp-fleet | baseline (same run) | ratio | target |',
    '|---|---|---:|---:|---:|---|',
  ];
  for (const report of reports) {
    for (const r of rowsOf(report)) {
      lines.push(
        `| ${[r.scenario, r.figure, r.value, r.baseline, r.ratio, r.target].map(cell).join(' | ')} |`,
      );
    }
  }
  const runs = reports.map((r) => {
    const e = r.environment ?? {};
    const commit = e.gitCommit
      ? `${e.gitCommit.slice(0, 7)}${e.gitDirty ? '+changes' : ''}`
      : 'unknown commit';
    const load = e.loadAverage1m === undefined ? '' : `, load ${e.loadAverage1m.toFixed(1)}`;
    const median = e.hostSpeed?.roundMedianMs;
    const speed = typeof median === 'number' ? `, calibration round ${median.toFixed(1)} ms` : '';
    const md = r.file.replace(/\.json$/, '.md');
    return `- \`${r.scenario}\`: [${md}](${md}) - \`${r.command ?? `pnpm bench ${r.scenario}`}\`, ${r.startedAt.slice(0, 16)}Z, commit ${commit}${load}${speed}${r.complete ? '' : ', **incomplete run**'}`;
  });
  return [
    '# Latest bench results',
    '',
    `Machine: ${[...machines].join('; ')}. Everything (load generator, servers, Redis, Postgres) co-located.`,
    '',
    ...lines,
    '',
    'Runs:',
    '',
    ...runs,
    '',
  ].join('\n');
}
