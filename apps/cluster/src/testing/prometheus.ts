/**
 * Test helpers around a real Prometheus (Debian's `prometheus` package): finding the binaries,
 * `promtool` checks, and private Prometheus servers on loopback with their own storage.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type RunningProcess, startProcess } from '@opamp-fleet/testkit';

export interface PrometheusBinaries {
  readonly prometheus: string;
  readonly promtool: string;
}

function findOnPath(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** `prometheus` and `promtool` from PATH (or /usr/bin), or null when either is missing. */
export function findPrometheus(): PrometheusBinaries | null {
  const prometheus = findOnPath('prometheus');
  const promtool = findOnPath('promtool');
  return prometheus !== null && promtool !== null ? { prometheus, promtool } : null;
}

/** How to get the binaries, for skip and failure messages. */
export const PROMETHEUS_INSTALL_HINT =
  'Prometheus is not installed: `apt-get install -y prometheus` (Debian 12 ships 2.42 with promtool); .ci/run installs it.';

export interface ToolResult {
  readonly code: number;
  /** stdout and stderr together. */
  readonly output: string;
}

/** Runs `promtool` with `args`, feeding `stdin` when given. */
export function promtool(
  binaries: PrometheusBinaries,
  args: readonly string[],
  stdin?: string,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binaries.promtool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, output: output.trim() }));
    child.stdin.end(stdin ?? '');
  });
}

/**
 * `promtool check metrics` on an exposition body (what a /metrics endpoint answered): exit code 0
 * and no output when it is valid and passes the naming lint.
 */
export function checkMetrics(binaries: PrometheusBinaries, exposition: string): Promise<ToolResult> {
  return promtool(binaries, ['check', 'metrics'], exposition);
}

export interface PrivatePrometheus {
  readonly url: string;
  readonly process: RunningProcess;
  /** Instant query (`/api/v1/query`): the vector result. */
  query(expr: string): Promise<VectorSample[]>;
  /** Range query (`/api/v1/query_range`, times in seconds): the matrix result. */
  queryRange(expr: string, startS: number, endS: number, stepS: number): Promise<MatrixSeries[]>;
  /** Stops the server and removes its storage. */
  stop(): Promise<void>;
}

export interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface MatrixSeries {
  readonly metric: Record<string, string>;
  readonly values: Array<[number, string]>;
}

/** Prometheus answered an API call with an error. */
export class PrometheusQueryError extends Error {
  override readonly name = 'PrometheusQueryError';
}

export interface StartPrometheusOptions {
  /** Appears in error messages. */
  readonly name: string;
  readonly port: number;
  /** prometheus.yml (YAML text). */
  readonly config: string;
  /** More files next to the config (e.g. rules.yml), by file name. */
  readonly files?: Readonly<Record<string, string>>;
}

/**
 * Starts a Prometheus on 127.0.0.1:`port` with `config` and storage in a fresh temp directory;
 * resolves once `/-/ready` answers.
 */
export async function startPrometheus(
  binaries: PrometheusBinaries,
  options: StartPrometheusOptions,
): Promise<PrivatePrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'opamp-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, options.config);
  for (const [file, text] of Object.entries(options.files ?? {})) await writeFile(join(dir, file), text);
  const url = `http://127.0.0.1:${options.port}`;
  let proc: RunningProcess;
  try {
    proc = await startProcess({
      name: options.name,
      command: binaries.prometheus,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${options.port}`,
        '--log.level=warn',
      ],
      readyUrl: `${url}/-/ready`,
      readyTimeoutMs: 20_000,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data?: { result: T }; error?: string };
    if (body.status !== 'success' || body.data === undefined) {
      throw new PrometheusQueryError(
        `${options.name} ${path} ${JSON.stringify(params)}: ${body.error ?? res.status}`,
      );
    }
    return body.data.result;
  };
  return {
    url,
    process: proc,
    query: (expr) => api<VectorSample[]>('/api/v1/query', { query: expr }),
    queryRange: (expr, startS, endS, stepS) =>
      api<MatrixSeries[]>('/api/v1/query_range', {
        query: expr,
        start: String(startS),
        end: String(endS),
        step: String(stepS),
      }),
    async stop() {
      await proc.stop('SIGTERM', 5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
