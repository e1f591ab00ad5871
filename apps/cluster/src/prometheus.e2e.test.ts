/**
 * Fleet metrics proven with a real Prometheus: two gateways (one shared OpAMP port), two sweepers,
 * a worker and the API (when built) as real processes (`pnpm build` first), scraped every second by
 * a Prometheus running deploy/prometheus (static config and rules), federated every second by a
 * second Prometheus running deploy/prometheus/federation.yml. With N agents connected, the
 * federated `sum(opamp_agents{status="online"})` is N; after kill -9 of the sweeper leader it
 * settles back to N and is never above N. Every process's /metrics passes `promtool check metrics`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDb, type DbHandle, migrate } from '@opamp-fleet/db';
import {
  eventually,
  freePorts,
  type PostgresFixture,
  postgresFixture,
  type RedisFixture,
  type RunningProcess,
  redisFixture,
  type StartProcessOptions,
  startProcesses,
  TestAgent,
} from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkMetrics,
  findPrometheus,
  PROMETHEUS_INSTALL_HINT,
  type PrivatePrometheus,
  startPrometheus,
} from './testing/prometheus.js';

const app = (name: string) => fileURLToPath(new URL(`../../${name}/dist/main.js`, import.meta.url));
const deploy = (file: string) =>
  readFileSync(fileURLToPath(new URL(`../../../deploy/prometheus/${file}`, import.meta.url)), 'utf8');
const bins = findPrometheus();
const apiBuilt = existsSync(app('api'));
const N = 30;
const API_TOKEN = 'prometheus-e2e-token';
const ONLINE = 'sum(opamp_agents{status="online"})';

interface Target {
  readonly job: 'gateway' | 'worker' | 'sweeper' | 'api';
  readonly proc: RunningProcess;
  readonly metricsPort: number;
}

let redis: RedisFixture;
let pg: PostgresFixture;
let db: DbHandle;
let targets: Target[] = [];
let scraper: PrivatePrometheus | undefined;
let federator: PrivatePrometheus | undefined;
const agents: TestAgent[] = [];

/** deploy/prometheus/<file> with 1 s intervals and, per job, the given targets. */
function prometheusConfig(file: string, jobs: Record<string, string[]>): string {
  let text = deploy(file)
    .replace(/scrape_interval: 15s/g, 'scrape_interval: 1s')
    .replace(/scrape_timeout: 10s/g, 'scrape_timeout: 900ms')
    .replace(/evaluation_interval: 15s/g, 'evaluation_interval: 1s');
  for (const [job, hosts] of Object.entries(jobs)) {
    const list = hosts.map((h) => `'${h}'`).join(', ');
    const re = new RegExp(`(job_name: ${job}\\n(?: .*\\n)*? {6}- targets: )\\[.*\\]`);
    if (!re.test(text)) throw new Error(`${file}: no static targets of job ${job}`);
    text = text.replace(re, `$1[${list}]`);
  }
  return text;
}

async function metricsOf(t: Target): Promise<string> {
  return (await fetch(`http://127.0.0.1:${t.metricsPort}/metrics`)).text();
}

/** A sample value of an exposition (first series of `name`), 0 when absent. */
function sample(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The single value of an instant query with one series, or null when the result is empty. */
async function scalar(p: PrivatePrometheus, expr: string): Promise<number | null> {
  const result = await p.query(expr);
  if (result.length === 0) return null;
  expect(result, expr).toHaveLength(1);
  return Number(result[0]!.value[1]);
}

describe('fleet metrics through a real Prometheus and a federating one', () => {
  it('has Prometheus to run against when running in CI', () => {
    if (process.env.CI === 'true') expect(bins, PROMETHEUS_INSTALL_HINT).not.toBeNull();
    else if (bins === null) console.warn(`skipping the Prometheus e2e test: ${PROMETHEUS_INSTALL_HINT}`);
  });

  describe.runIf(bins)('2 gateways, 2 sweepers, a worker and the API, 30 agents', () => {
    beforeAll(async () => {
      if (!apiBuilt) console.warn(`${app('api')} is missing: the API is left out of this test`);
      [redis, pg] = await Promise.all([redisFixture(), postgresFixture()]);
      await migrate(pg.url);
      db = createDb(pg.url, { max: 2 });
      const [opamp, g1, g2, w, s1, s2, api, apiOps, p1, p2] = await freePorts(10);
      const common = {
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: redis.prefix,
        LOG_LEVEL: 'warn',
        METRICS_HOST: '127.0.0.1',
      };
      const proc = (job: Target['job'], name: string, port: number, env: Record<string, string>) => ({
        job,
        port,
        opts: {
          name,
          command: process.execPath,
          args: [app(job)],
          env: { ...common, METRICS_PORT: String(port), ...env },
          readyUrl: `http://127.0.0.1:${port}/readyz`,
        } satisfies StartProcessOptions,
      });
      const gateway = (i: number, port: number) =>
        proc('gateway', `gateway-${i}`, port, {
          OPAMP_HOST: '127.0.0.1',
          OPAMP_PORT: String(opamp),
          GATEWAY_ID: `prom-gateway-${i}`,
          HEARTBEAT_INTERVAL_SECONDS: '1',
        });
      const sweeper = (i: number, port: number) =>
        proc('sweeper', `sweeper-${i}`, port, {
          DATABASE_URL: pg.url,
          SWEEPER_ID: `prom-sweeper-${i}`,
          OFFLINE_TIMEOUT_SECONDS: '5',
          SWEEP_INTERVAL_MS: '250',
          SWEEP_TICK_BUDGET_MS: '1000',
          LEASE_TTL_MS: '2000',
        });
      const list = [
        gateway(1, g1!),
        gateway(2, g2!),
        proc('worker', 'worker', w!, { DATABASE_URL: pg.url, HEARTBEAT_FLUSH_INTERVAL_MS: '250' }),
        sweeper(1, s1!),
        sweeper(2, s2!),
      ];
      if (apiBuilt) {
        list.push(
          proc('api', 'api', apiOps!, {
            DATABASE_URL: pg.url,
            API_HOST: '127.0.0.1',
            API_PORT: String(api),
            API_AUTH_TOKENS: API_TOKEN,
            OFFLINE_TIMEOUT_SECONDS: '5',
          }),
        );
      }
      const procs = await startProcesses(list.map((p) => p.opts));
      targets = list.map((p, i) => ({ job: p.job, proc: procs[i]!, metricsPort: p.port }));
      const hosts = (job: Target['job']) =>
        targets.filter((t) => t.job === job).map((t) => `127.0.0.1:${t.metricsPort}`);
      scraper = await startPrometheus(bins!, {
        name: 'prometheus (scraping)',
        port: p1!,
        config: prometheusConfig('prometheus-static.yml', {
          'opamp-gateway': hosts('gateway'),
          'opamp-worker': hosts('worker'),
          'opamp-sweeper': hosts('sweeper'),
          'opamp-api': hosts('api'),
        }),
        files: { 'rules.yml': deploy('rules.yml') },
      });
      federator = await startPrometheus(bins!, {
        name: 'prometheus (federating)',
        port: p2!,
        config: prometheusConfig('federation.yml', { 'federate-opamp': [`127.0.0.1:${p1}`] }),
      });

      for (let i = 0; i < N; i++) {
        agents.push(await TestAgent.connect({ url: `ws://127.0.0.1:${opamp}/v1/opamp` }));
      }
      await Promise.all(agents.map((a) => a.sendFullState()));
      for (const a of agents) a.startHeartbeats(1000);
      if (apiBuilt) {
        const res = await fetch(`http://127.0.0.1:${api}/api/v1/fleet/summary`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        });
        expect(res.status).toBe(200); // a request, so that the API's request metrics have samples
        await res.arrayBuffer();
      }
    }, 60_000);

    afterAll(async () => {
      for (const a of agents) a.terminate();
      await Promise.all([federator?.stop(), scraper?.stop()]);
      await Promise.all(targets.map((t) => t.proc.stop('SIGTERM', 10_000)));
      await db?.close();
      await Promise.all([redis?.stop(), pg?.stop()]);
    }, 30_000);

    it('federated sum(opamp_agents{status="online"}) is N; after kill -9 of the sweeper leader it is N again and never above', async () => {
      const online = async () =>
        (await db.sql<{ n: number }[]>`select count(*)::int as n from agents where status = 'online'`)[0]!.n;
      await eventually(async () => expect(await online()).toBe(N), { timeoutMs: 15_000, intervalMs: 200 });
      await eventually(
        async () => {
          expect(await scalar(federator!, ONLINE)).toBe(N);
          expect(await scalar(federator!, 'count(opamp_agents{status="online"})')).toBe(1);
          expect(await scalar(federator!, 'opamp:agents:sum{status="online"}')).toBe(N); // rules.yml, federated
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );

      const sweepers = targets.filter((t) => t.job === 'sweeper');
      const leaders = await Promise.all(
        sweepers.map(async (t) => sample(await metricsOf(t), 'opamp_sweeper_is_leader')),
      );
      expect([...leaders].sort()).toEqual([0, 1]);
      const leader = sweepers.find((_, i) => leaders[i] === 1)!;
      const survivor = sweepers.find((t) => t !== leader)!;
      expect(await metricsOf(survivor)).not.toMatch(/^opamp_agents\{/m); // a follower exports none

      const killedAt = Date.now() / 1000;
      leader.proc.signal('SIGKILL');
      await leader.proc.exited;
      const seen: number[] = [];
      await eventually(
        async () => {
          const value = await scalar(federator!, ONLINE);
          if (value !== null) seen.push(value);
          expect(value).toBe(N);
          const series = await federator!.query('opamp_agents{status="online"}');
          expect(series.map((s) => s.metric.instance)).toEqual([`127.0.0.1:${survivor.metricsPort}`]);
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const settledAt = Date.now() / 1000;
      console.info(
        `federated online sum back to ${N} ${(settledAt - killedAt).toFixed(1)} s after kill -9 of the sweeper leader`,
      );
      expect(Math.max(...seen)).toBeLessThanOrEqual(N);

      // every evaluation since just before the kill: never above N, never two exporting replicas
      const range = (expr: string) => federator!.queryRange(expr, killedAt - 5, settledAt, 0.25);
      const sums = (await range(ONLINE)).flatMap((s) => s.values.map(([, v]) => Number(v)));
      expect(sums.length).toBeGreaterThan(0);
      expect(Math.max(...sums)).toBe(N);
      const exporters = (await range('count(opamp_agents{status="online"})')).flatMap((s) =>
        s.values.map(([, v]) => Number(v)),
      );
      expect(Math.max(...exporters)).toBe(1);
      expect(await scalar(federator!, 'sum(opamp_agent_heartbeat_missed_total)')).toBe(0);
    }, 90_000);

    it('every process passes promtool check metrics, exports its own metrics with the service label and no agent id', async () => {
      const own: Record<Target['job'], string> = {
        gateway: 'opamp_agent_connection_duration_seconds_count{service="gateway"}',
        worker: 'opamp_worker_heartbeat_flush_lag_seconds{service="worker"}',
        sweeper: 'opamp_agent_heartbeat_missed_total{service="sweeper"}',
        api: 'service="api"',
      };
      for (const t of targets.filter((x) => !x.proc.hasExited())) {
        const text = await metricsOf(t);
        const result = await checkMetrics(bins!, text);
        expect(result.output, `${t.proc.name}: promtool check metrics`).toBe('');
        expect(result.code, t.proc.name).toBe(0);
        expect(text, t.proc.name).toContain(own[t.job]);
        expect(text, t.proc.name).toContain('process_cpu_user_seconds_total');
        const leaked = agents.filter((a) => text.includes(a.id));
        expect(
          leaked.map((a) => a.id),
          `${t.proc.name}: agent ids in label values`,
        ).toEqual([]);
      }
      const leaderText = await metricsOf(targets.find((t) => t.job === 'sweeper' && !t.proc.hasExited())!);
      expect(leaderText).toMatch(
        new RegExp(`^opamp_agents\\{status="online",service="sweeper"\\} ${N}$`, 'm'),
      );
      expect(await scalar(federator!, 'count(up{job=~"opamp-.*"} == 1)')).toBe(targets.length - 1);
    });
  });
});
