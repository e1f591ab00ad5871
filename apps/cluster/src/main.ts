import { parseArgs } from 'node:util';
import { createOpAMPClient } from '@elastic/opamp-client-node';
import { presenceKeys } from '@opamp-fleet/presence';
import { type RunningProcess, startProcess, TestAgent } from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { clusterPostgres, clusterRedis } from './infra.js';

const USAGE = `usage: pnpm demo [--gateways N] [--agents N] [--http-agents N] [--heartbeat S] [--port P] [--metrics-port P]
                 [--api-port P] [--database NAME] [--key-prefix PREFIX]
Runs a local opamp-fleet cluster (gateways, a worker, two sweeper replicas) with a simulated demo
fleet until Ctrl-C. Ops ports: gateways from --metrics-port on, then the worker, then the sweepers.
Agents silent for 3 heartbeats go offline.`;

/** Sweeper replicas of the demo: one leads, the other stands by. */
const SWEEPERS = 2;

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '2' },
    agents: { type: 'string', default: '20' },
    'http-agents': { type: 'string', default: '2' },
    heartbeat: { type: 'string', default: '5' },
    port: { type: 'string', default: '4320' },
    'metrics-port': { type: 'string', default: '9464' },
    'api-port': { type: 'string', default: '8080' },
    database: { type: 'string', default: 'opamp_demo' },
    'key-prefix': { type: 'string', default: 'opamp:demo:' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name: keyof typeof values, min: number): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const gatewayCount = count('gateways', 1);
const wsAgents = count('agents', 0);
const httpAgents = count('http-agents', 0);
const heartbeat = count('heartbeat', 1);
const port = count('port', 1);
const metricsPort = count('metrics-port', 1);
const apiPort = count('api-port', 1);

const appMain = (app: string) => new URL(`../../${app}/dist/main.js`, import.meta.url).pathname;
const prefix = values['key-prefix'];
const redis = await clusterRedis();
const pg = await clusterPostgres(values.database);
const db = postgres(pg.url, { max: 1, onnotice: () => {} });
const gateways: RunningProcess[] = [];
const workers: RunningProcess[] = [];
const sweepers: RunningProcess[] = [];
const apis: RunningProcess[] = [];
const agents: TestAgent[] = [];
const httpClients: Array<{ shutdown(): Promise<void> }> = [];
let stopping = false;
let statusTimer: NodeJS.Timeout | undefined;
const statusClients: Array<{ disconnect(): void }> = [];

// A demo client failing (e.g. an agent whose gateway is draining) is reported, never fatal: the demo
// keeps running, and a shutdown always completes and stops every process it started.
process.on('unhandledRejection', (err) => console.error('demo:', err instanceof Error ? err.message : err));
process.on('uncaughtException', (err) => console.error('demo:', err.message));

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(statusTimer);
  console.log('\nstopping: fleet, sweepers, then gateways (SIGTERM, paced drain), worker, then Redis');
  for (const c of httpClients) await c.shutdown().catch(() => {});
  await Promise.allSettled(agents.map((a) => a.disconnect()));
  await Promise.allSettled(sweepers.map((s) => s.stop('SIGTERM', 15_000)));
  await Promise.allSettled(apis.map((a) => a.stop('SIGTERM', 15_000)));
  await Promise.allSettled(gateways.map((g) => g.stop('SIGTERM', 15_000)));
  await Promise.allSettled(workers.map((w) => w.stop('SIGTERM', 30_000)));
  for (const c of statusClients) c.disconnect();
  await db.end({ timeout: 5 }).catch(() => {});
  await Promise.allSettled([redis.stop(), pg.stop()]);
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  for (let i = 0; i < gatewayCount; i++) {
    const ops = metricsPort + i;
    gateways.push(
      await startProcess({
        name: `gateway-${i + 1}`,
        command: process.execPath,
        args: [appMain('gateway')],
        env: {
          OPAMP_PORT: String(port),
          METRICS_PORT: String(ops),
          REDIS_URL: redis.url,
          REDIS_KEY_PREFIX: prefix,
          GATEWAY_ID: `demo-gateway-${i + 1}`,
          HEARTBEAT_INTERVAL_SECONDS: String(heartbeat),
          // below half the sweepers' offline timeout (3 heartbeats)
          SOCKET_KEEPALIVE_TOUCH_SECONDS: String(heartbeat),
          LOG_LEVEL: 'warn',
        },
        readyUrl: `http://127.0.0.1:${ops}/readyz`,
      }),
    );
  }
  const workerOps = metricsPort + gatewayCount;
  workers.push(
    await startProcess({
      name: 'worker',
      command: process.execPath,
      args: [appMain('worker')],
      env: {
        METRICS_PORT: String(workerOps),
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        DATABASE_URL: pg.url,
        WORKER_ID: 'demo-worker-1',
        LOG_LEVEL: 'warn',
      },
      readyUrl: `http://127.0.0.1:${workerOps}/readyz`,
    }),
  );
  for (let i = 0; i < SWEEPERS; i++) {
    const ops = workerOps + 1 + i;
    sweepers.push(
      await startProcess({
        name: `sweeper-${i + 1}`,
        command: process.execPath,
        args: [appMain('sweeper')],
        env: {
          METRICS_PORT: String(ops),
          REDIS_URL: redis.url,
          REDIS_KEY_PREFIX: prefix,
          DATABASE_URL: pg.url,
          SWEEPER_ID: `demo-sweeper-${i + 1}`,
          OFFLINE_TIMEOUT_SECONDS: String(3 * heartbeat),
          LOG_LEVEL: 'warn',
        },
        readyUrl: `http://127.0.0.1:${ops}/readyz`,
      }),
    );
  }
  const apiOps = workerOps + 1 + SWEEPERS;
  apis.push(
    await startProcess({
      name: 'api',
      command: process.execPath,
      args: [appMain('api')],
      env: {
        API_PORT: String(apiPort),
        METRICS_PORT: String(apiOps),
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        DATABASE_URL: pg.url,
        OFFLINE_TIMEOUT_SECONDS: String(3 * heartbeat),
        API_AUTH_TOKENS: '',
        LOG_LEVEL: 'error',
      },
      readyUrl: `http://127.0.0.1:${apiOps}/readyz`,
    }),
  );
  const url = `ws://127.0.0.1:${port}/v1/opamp`;
  for (let i = 0; i < wsAgents; i++) {
    const agent = await TestAgent.connect({
      url,
      attributes: { 'service.name': 'io.opamp-fleet.demo', 'service.instance.id': `demo-ws-${i + 1}` },
    });
    await agent.sendFullState();
    agent.startHeartbeats(heartbeat * 1000);
    agents.push(agent);
  }
  for (let i = 0; i < httpAgents; i++) {
    const client = createOpAMPClient({
      endpoint: `http://127.0.0.1:${port}/v1/opamp`,
      heartbeatIntervalSeconds: heartbeat,
    });
    client.setAgentDescription({
      identifyingAttributes: {
        'service.name': 'io.opamp-fleet.demo',
        'service.instance.id': `demo-http-${i + 1}`,
      },
      nonIdentifyingAttributes: { 'os.type': 'linux' },
    });
    client.start();
    httpClients.push(client);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  await stop(1);
}

console.log(`opamp-fleet demo cluster
  OpAMP endpoint   ws://127.0.0.1:${port}/v1/opamp and http://127.0.0.1:${port}/v1/opamp (${gatewayCount} gateways sharing the port)
  gateway metrics  ${gateways.map((_, i) => `http://127.0.0.1:${metricsPort + i}/metrics`).join('  ')}
  worker metrics   http://127.0.0.1:${metricsPort + gatewayCount}/metrics
  sweeper metrics  ${sweepers.map((_, i) => `http://127.0.0.1:${sweeperPort(i)}/metrics`).join('  ')} (offline after ${3 * heartbeat} s of silence)
  Redis            ${redis.url} (${redis.origin}), key prefix ${prefix}
  Postgres         ${redactPassword(pg.url)} (${pg.origin})
  REST API         http://127.0.0.1:${apiPort}/api/v1/fleet/summary  (also /api/v1/agents, /api/v1/agents/offline,
                   /api/v1/openapi.json; no auth in the demo)
  demo fleet       ${wsAgents} WebSocket agents + ${httpAgents} HTTP agents (Elastic OpAMP client), heartbeat ${heartbeat} s
Ctrl-C stops everything.`);

const keys = presenceKeys(prefix);
const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
client.on('error', () => {}); // the status line reports failures of its own commands
statusClients.push(client);
await client.connect();
const report = async () => {
  const [seconds] = (await client.time()) as [string | number, string | number];
  const nowMs = Number(seconds) * 1000;
  const fresh = await client.zcount(keys.lastSeen, nowMs - 3 * heartbeat * 1000, '+inf');
  const held = await Promise.all(gateways.map((_, i) => heldWebSockets(metricsPort + i)));
  const leading = await Promise.all(sweepers.map((_, i) => isLeader(sweeperPort(i))));
  const leaders = sweepers.filter((_, i) => leading[i]).map((p) => `demo-${p.name}`);
  const rows = await db<
    { status: string; n: number }[]
  >`select status, count(*)::int as n from agents group by status order by status`;
  const stored = rows.map((r) => `${r.status} ${r.n}`).join(', ') || 'none yet';
  console.log(
    `${new Date().toISOString()}  agents seen within ${3 * heartbeat}s: ${fresh}  WebSockets per gateway: ${held.join(' / ')}  sweeper leader: ${leaders.join(' + ') || 'none'}  in Postgres: ${stored}`,
  );
};
statusTimer = setInterval(
  () => void report().catch((err) => console.error('status:', String(err))),
  heartbeat * 1000,
);
void report();

function sweeperPort(i: number): number {
  return metricsPort + gatewayCount + 1 + i;
}

/**
 * Sum of the samples of metric `name` on the ops port `opsPort`; with `label` (e.g. `transport="ws"`),
 * of the series whose labels include it only.
 */
async function metricSum(opsPort: number, name: string, label?: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${opsPort}/metrics`).then((r) => r.text());
  let total = 0;
  for (const line of text.split('\n')) {
    const series = line.startsWith(`${name}{`) || line.startsWith(`${name} `);
    if (series && (!label || line.includes(label))) total += Number(line.split(' ').pop());
  }
  return total;
}

/** Open WebSockets only: a plain-HTTP agent holds a connection only while a poll is in flight. */
async function heldWebSockets(opsPort: number): Promise<string> {
  return String(await metricSum(opsPort, 'opamp_gateway_connections', 'transport="ws"'));
}

/** The replica's own view (as of its last lease renewal); false when it does not answer. */
async function isLeader(opsPort: number): Promise<boolean> {
  return (await metricSum(opsPort, 'opamp_sweeper_is_leader').catch(() => 0)) === 1;
}

function redactPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
