import { environmentLine } from '../report/markdown.js';
import type { Environment } from '../report/types.js';
import type { InsideApi } from './api-inside.js';
import type { EndpointResult, OpenLoopResult } from './api-load.js';
import type { RunCpu } from './api-usage.js';

export const API_REPORT_SCHEMA = 'opamp-fleet/bench-api-latency@4';

/** Target of the issue at 50,000 agents; reported per offered rate, never enforced. */
export const API_P99_TARGET_MS = 10;

/**
 * Offered rates of the open-loop runs (arrivals per second, each arrival in flight independently),
 * and the reference rate the latency budget is judged at: status reads at 1,000 req/s, offline
 * listings at 25 walks/s (100 pages/s of 100 agents). A closed loop at concurrency C measures
 * capacity, where latency is C / throughput by construction; the budget is a latency at a load.
 */
export const OPEN_LOOP_RATES = {
  status: { rates: [250, 500, 1000, 2000], reference: 1000, unit: 'req/s' },
  offline: { rates: [10, 25, 50], reference: 25, unit: 'walks/s' },
} as const;

/** One side of one measurement: latency, throughput and the CPU used meanwhile. */
export type MeasuredRun = EndpointResult & { cpu: RunCpu };

/** One side of an open-loop measurement at an offered rate. */
export type OpenLoopRun = OpenLoopResult & { cpu: RunCpu };

/**
 * An endpoint at one offered rate (open loop): the API and the raw-SQL baseline. The latency
 * budget is judged here, at the reference rate: met when p99 is under the limit and every arrival
 * was sent (none dropped) and answered.
 */
export interface RateComparison {
  /** Arrivals offered per second (requests, or page walks for the offline listing). */
  ratePerSecond: number;
  /** The rate the budget is judged at. */
  reference: boolean;
  /** With the API's own timing of the same requests (its duration histogram). */
  api: OpenLoopRun & { insideApi: InsideApi };
  raw: OpenLoopRun;
  p99OverRaw: number | null;
  target: { limitMs: number; met: boolean };
}

/** An endpoint at one concurrency: the API and the raw-SQL baseline. */
export interface LevelComparison {
  /** Requests in flight. */
  concurrency: number;
  api: MeasuredRun;
  /** The same repository reads through postgres.js, without HTTP, auth or the Redis presence reads. */
  raw: MeasuredRun;
  /** api p99 / raw p99; null when either is missing. */
  p99OverRaw: number | null;
  target: { limitMs: number; met: boolean };
}

/**
 * One endpoint: every measured concurrency (`levels`, ascending), and at the top level the
 * comparison at the requested `--concurrency` (the last level), as in schema @1.
 */
export interface EndpointComparison extends LevelComparison {
  endpoint: string;
  /** Closed loop: capacity at each concurrency. */
  levels: LevelComparison[];
  /** Unit of `rates` (`req/s`, or `walks/s` of up to four pages each). */
  rateUnit: string;
  /** Open loop: latency at each offered rate, ascending. */
  rates: RateComparison[];
}

export interface ApiLatencyReport {
  schema: typeof API_REPORT_SCHEMA;
  scenario: 'api-latency';
  startedAt: string;
  complete: boolean;
  command: string;
  environment: Environment;
  /** Load average (1 min) when the measurements ended. */
  loadAverageAtEnd: number;
  settings: Record<string, string | number>;
  fleet: { agents: number; online: number; offline: number; seedSeconds: number };
  endpoints: EndpointComparison[];
  /** The run's database and Redis key prefix (both removed after the run). */
  servers: { database: string; redisKeyPrefix: string };
}

const f = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const g = (n: number | null, digits = 2): string => (n === null ? 'n/a' : f(n, digits));

/** The Markdown summary of a report. */
export function formatApiMarkdown(report: ApiLatencyReport): string {
  const env = report.environment;
  const lines = [
    `# api-latency ${report.startedAt}`,
    '',
    `Reproduce: \`${report.command}\``,
    '',
    `Environment: ${environmentLine(env)}`,
    '',
    `Fleet: ${report.fleet.agents} agents (${report.fleet.online} online, ${report.fleet.offline} offline), ` +
      `seeded in ${f(report.fleet.seedSeconds, 1)} s. Setup: ${Object.entries(report.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    '',
    `Load average at the end: ${report.loadAverageAtEnd.toFixed(2)}. CPU columns: cores used by the API process, ` +
      "the run database's Postgres backends and this generator during the run (1 = one core), CPU ms per " +
      "request (service time on a free core), and the whole host's busy share (other tenants included). " +
      'At concurrency 1 a request waits for nothing; above, latency minus service time is queueing ' +
      '(mean latency ~ concurrency / req/s).',
  ];
  for (const e of report.endpoints) {
    lines.push(
      '',
      `## ${e.endpoint} at fixed concurrency (closed loop: capacity)`,
      '',
      '| concurrency | side | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | API cores | API CPU ms/req | PG cores | PG CPU ms/req | generator cores | host busy % |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const level of e.levels) {
      for (const [side, r] of [
        ['API', level.api],
        ['raw SQL', level.raw],
      ] as const) {
        const c = r.cpu;
        lines.push(
          `| ${level.concurrency} | ${side} | ${r.requests} | ${r.errors} | ${f(r.requestsPerSecond, 0)} | ` +
            `${f(r.latencyMs.p50)} | ${f(r.latencyMs.p90)} | ${f(r.latencyMs.p99)} | ${f(r.latencyMs.max)} | ` +
            `${g(c.apiCores)} | ${g(c.apiMsPerRequest, 3)} | ${g(c.postgresCores)} | ${g(c.postgresMsPerRequest, 3)} | ` +
            `${f(c.generatorCores)} | ${f(c.host.busyPercent, 0)} |`,
        );
      }
    }
  }
  for (const e of report.endpoints) {
    lines.push(
      '',
      `## ${e.endpoint} at offered rates (open loop)`,
      '',
      `Arrivals at a fixed rate (${e.rateUnit}), each in flight independently of the others (up to ` +
        `${report.settings.openLoopMaxInFlight ?? 'n/a'} at once; an arrival beyond that is dropped): no request ` +
        'waits for another one, so a slow server cannot slow the load down. Requests are timed from when they ' +
        "are sent; 'send lag' is how late the generator sent an arrival after its scheduled time (not server time). " +
        "'In API' is the API's own timing of the same requests (its request-duration histogram, from a request's " +
        'arrival in the API process to its answer, at the resolution of its buckets): the bucket bound its p99 falls ' +
        `under, and the share it took more than ${API_P99_TARGET_MS} ms; the rest of a tail is time in the kernel's ` +
        'queues and in the generator, on the same shared cores.',
      '',
      '| offered | side | requests | dropped | errors | req/s | peak in flight | p50 ms | p90 ms | p99 ms | max ms | send lag p99 ms | in API: p99 at most ms | in API: > 10 ms | API CPU ms/req | PG CPU ms/req | host busy % |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const r of e.rates) {
      for (const [side, run, inside] of [
        ['API', r.api, r.api.insideApi],
        ['raw SQL', r.raw, undefined],
      ] as const) {
        const c = run.cpu;
        lines.push(
          `| ${r.ratePerSecond} ${e.rateUnit}${r.reference ? ' (reference)' : ''} | ${side} | ${run.requests} | ` +
            `${run.dropped} | ${run.errors} | ${f(run.requestsPerSecond, 0)} | ${run.peakInFlight} | ` +
            `${f(run.latencyMs.p50)} | ${f(run.latencyMs.p90)} | ${f(run.latencyMs.p99)} | ${f(run.latencyMs.max)} | ` +
            `${f(run.sendLagMs?.p99 ?? Number.NaN)} | ${inside ? g(inside.p99AtMostMs, 1) : '-'} | ` +
            `${inside ? `${f(inside.overLimitShare * 100)} %` : '-'} | ` +
            `${g(c.apiMsPerRequest, 3)} | ${g(c.postgresMsPerRequest, 3)} | ${f(c.host.busyPercent, 0)} |`,
        );
      }
    }
  }
  lines.push(
    '',
    '## Ratios and targets (reported, not enforced)',
    '',
    `The budget (p99 < ${API_P99_TARGET_MS} ms) is a latency at a load: it is judged at the offered rates ` +
      '(open loop), at the reference rate. The closed-loop levels measure capacity: there every request ' +
      'waits for the ones ahead of it, so latency ~ concurrency / throughput.',
    '',
  );
  for (const e of report.endpoints) {
    for (const r of e.rates) {
      lines.push(
        `- ${e.endpoint} at ${r.ratePerSecond} ${e.rateUnit} offered${r.reference ? ' (reference)' : ''}: ` +
          `API p99 / raw p99 = ${r.p99OverRaw === null ? 'n/a' : f(r.p99OverRaw, 1)}; p99 ${f(r.api.latencyMs.p99)} ms, ` +
          `${r.api.dropped} dropped, ${r.api.errors} errors (target < ${r.target.limitMs} ms) ${r.target.met ? 'met' : 'MISSED'}; ` +
          `in the API ${f(r.api.insideApi.overLimitShare * 100)} % over ${r.target.limitMs} ms`,
      );
    }
    for (const level of e.levels) {
      lines.push(
        `- ${e.endpoint} at concurrency ${level.concurrency} (closed loop): API p99 / raw p99 = ` +
          `${level.p99OverRaw === null ? 'n/a' : f(level.p99OverRaw, 1)}; p99 ${f(level.api.latencyMs.p99)} ms, ` +
          `${f(level.api.requestsPerSecond, 0)} req/s (API / raw throughput ${f(level.api.requestsPerSecond / level.raw.requestsPerSecond, 2)})`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
