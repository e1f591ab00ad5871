import type { Environment } from '../report/types.js';
import type { EndpointResult } from './api-load.js';

export const API_REPORT_SCHEMA = 'opamp-fleet/bench-api-latency@1';

/** Target of the issue at 50,000 agents; reported, never enforced. */
export const API_P99_TARGET_MS = 10;

export interface EndpointComparison {
  endpoint: string;
  api: EndpointResult;
  /** The same repository reads through postgres.js, without HTTP, auth or the Redis presence reads. */
  raw: EndpointResult;
  /** api p99 / raw p99; null when either is missing. */
  p99OverRaw: number | null;
  target: { limitMs: number; met: boolean };
}

export interface ApiLatencyReport {
  schema: typeof API_REPORT_SCHEMA;
  scenario: 'api-latency';
  startedAt: string;
  complete: boolean;
  command: string;
  environment: Environment;
  settings: Record<string, string | number>;
  fleet: { agents: number; online: number; offline: number; seedSeconds: number };
  endpoints: EndpointComparison[];
  /** The run's database and Redis key prefix (both removed after the run). */
  servers: { database: string; redisKeyPrefix: string };
}

const f = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** The Markdown summary of a report. */
export function formatApiMarkdown(report: ApiLatencyReport): string {
  const env = report.environment;
  const lines = [
    `# api-latency ${report.startedAt}`,
    '',
    `Reproduce: \`${report.command}\``,
    '',
    `Environment: ${env.cpuCount}x ${env.cpuModel}, ${(env.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ` +
      `${env.os}, Node ${env.nodeVersion}, commit ${env.gitCommit ?? 'unknown'}${env.gitDirty ? ' (dirty)' : ''}, ` +
      `load average ${env.loadAverage1m.toFixed(2)} (1 min, at start)`,
    '',
    `Fleet: ${report.fleet.agents} agents (${report.fleet.online} online, ${report.fleet.offline} offline), ` +
      `seeded in ${f(report.fleet.seedSeconds, 1)} s. Setup: ${Object.entries(report.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    '',
    '| endpoint | side | requests | errors | req/s | p50 ms | p99 ms | max ms |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const e of report.endpoints) {
    for (const [side, r] of [
      ['API', e.api],
      ['raw SQL', e.raw],
    ] as const) {
      lines.push(
        `| ${e.endpoint} | ${side} | ${r.requests} | ${r.errors} | ${f(r.requestsPerSecond, 0)} | ` +
          `${f(r.latencyMs.p50)} | ${f(r.latencyMs.p99)} | ${f(r.latencyMs.max)} |`,
      );
    }
  }
  lines.push('', '## Ratios and targets (reported, not enforced)', '');
  for (const e of report.endpoints) {
    lines.push(
      `- ${e.endpoint}: API p99 / raw p99 = ${e.p99OverRaw === null ? 'n/a' : f(e.p99OverRaw, 1)}; ` +
        `p99 ${f(e.api.latencyMs.p99)} ms (target < ${e.target.limitMs} ms) ${e.target.met ? 'met' : 'MISSED'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
