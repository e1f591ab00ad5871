/**
 * `Simulator`: a fleet of realistic simulated agents, in this process up to `agentsPerProcess`
 * agents, beyond that sharded over forked child processes (sim-worker.ts) driven over IPC. Every
 * command runs on all processes in parallel; counters and process usage merge over them.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { shardRanges } from '../load/schedule.js';
import type { BackoffOptions } from './backoff.js';
import { mergeSimCounters, type SimCounters, type SimProcessUsage } from './counters.js';
import { LocalSim } from './local-sim.js';
import type {
  LeftAgent,
  SimCommand,
  SimReply,
  SimRequest,
  SimResult,
  SimShardSpec,
  SimStatus,
} from './sim-ipc.js';

const WORKER_ENTRY = fileURLToPath(new URL('./sim-worker.js', import.meta.url));

export type SimTransport = 'ws' | 'http' | 'mix';

export interface SimulatorOptions {
  url: string;
  token: string | null;
  agents: number;
  transport: SimTransport;
  /** Share of HTTP agents with `mix`, 0..1. */
  httpShare: number;
  heartbeatMs: number;
  jitter: number;
  backoff: BackoffOptions;
  agentsPerAddress: number;
  agentsPerProcess: number;
  /** Force this many processes (forked) instead of deriving it from `agentsPerProcess`. */
  processes: number | null;
  dialConcurrency: number;
  echo: boolean;
  sampleCapacity: number;
}

export const SIM_DEFAULTS = {
  httpShare: 0.5,
  jitter: 0.1,
  agentsPerAddress: 5_000,
  agentsPerProcess: 19_000,
  dialConcurrency: 500,
  sampleCapacity: 200_000,
} as const;

export class SimError extends Error {
  override readonly name = 'SimError';
}

interface SimPart {
  status(): SimStatus | null;
  call(command: SimCommand): Promise<SimResult>;
  close(): Promise<void>;
}

function httpShareOf(options: SimulatorOptions): number {
  if (options.transport === 'ws') return 0;
  return options.transport === 'http' ? 1 : options.httpShare;
}

/** Splits `count` over parts of sizes `sizes`, proportionally (largest remainders first). */
export function splitCount(count: number, sizes: readonly number[]): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return sizes.map(() => 0);
  const exact = sizes.map((s) => (count * s) / total);
  const parts = exact.map(Math.floor);
  let rest = count - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (rest-- <= 0) break;
    parts[i] = (parts[i] as number) + 1;
  }
  return parts;
}

export class Simulator {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly parts: readonly SimPart[],
    private readonly sizes: readonly number[],
  ) {}

  /** Creates the processes (nothing dials before `start`). */
  static async create(options: SimulatorOptions): Promise<Simulator> {
    const forked = options.processes !== null || options.agents > options.agentsPerProcess;
    const shards = forked
      ? options.processes !== null
        ? shardRanges(options.agents, Math.ceil(options.agents / options.processes))
        : shardRanges(options.agents, options.agentsPerProcess)
      : [{ start: 0, end: options.agents }];
    const specs: SimShardSpec[] = shards.map(({ start, end }) => ({
      url: options.url,
      token: options.token,
      firstSlot: start,
      count: end - start,
      httpShare: httpShareOf(options),
      heartbeatMs: options.heartbeatMs,
      jitter: options.jitter,
      backoff: options.backoff,
      agentsPerAddress: options.agentsPerAddress,
      dialConcurrency: Math.max(1, Math.ceil(options.dialConcurrency / shards.length)),
      echo: options.echo,
      sampleCapacity: Math.ceil(options.sampleCapacity / shards.length),
    }));
    if (!forked) {
      const local = new LocalSim(specs[0] as SimShardSpec);
      const part: SimPart = {
        status: () => local.status(),
        call: (command) => local.handle(command),
        close: async () => {},
      };
      return new Simulator([part], [options.agents]);
    }
    const parts = specs.map(() => new ChildPart());
    const simulator = new Simulator(
      parts,
      specs.map((s) => s.count),
    );
    try {
      await Promise.all(parts.map((part, i) => part.init(specs[i] as SimShardSpec)));
    } catch (error) {
      await simulator.close();
      throw error;
    }
    return simulator;
  }

  get processCount(): number {
    return this.parts.length;
  }

  counters(): SimCounters {
    return mergeSimCounters(this.parts.flatMap((p) => p.status()?.counters ?? []));
  }

  usage(): SimProcessUsage[] {
    return this.parts.flatMap((p) => p.status()?.usage ?? []);
  }

  private all(command: SimCommand): Promise<SimResult[]> {
    return Promise.all(this.parts.map((p) => p.call(command)));
  }

  private split(count: number, make: (n: number) => SimCommand): Promise<SimResult[]> {
    const counts = splitCount(count, this.sizes);
    return Promise.all(this.parts.map((p, i) => p.call(make(counts[i] as number))));
  }

  /** Dials every agent; resolves once each has connected or failed once (failures keep retrying). */
  async start(): Promise<void> {
    await this.all({ type: 'start' });
  }

  /** Starts a measured window: clears latency and reconnect samples. */
  async mark(): Promise<void> {
    await this.all({ type: 'mark' });
  }

  async leave(count: number): Promise<LeftAgent[]> {
    const results = await this.split(count, (n) => ({ type: 'leave', count: n }));
    return results.flatMap((r) => (r.type === 'left' ? r.agents : []));
  }

  async join(count: number): Promise<number> {
    return sumCounts(await this.split(count, (n) => ({ type: 'join', count: n })));
  }

  /** `count` agents lose one message each: the server sees a sequence gap and asks for full state. */
  async gap(count: number): Promise<number> {
    return sumCounts(await this.split(count, (n) => ({ type: 'gap', count: n })));
  }

  /** Ids of the running agents. */
  async ids(): Promise<string[]> {
    const results = await this.all({ type: 'ids' });
    return results.flatMap((r) => (r.type === 'ids' ? r.ids : []));
  }

  /** Latency (by transport) and reconnect samples since the last `mark` (ms). */
  async samples(): Promise<{ latencyMs: { ws: number[]; http: number[] }; reconnectMs: number[] }> {
    const results = await this.all({ type: 'samples' });
    const latencyMs = { ws: [] as number[], http: [] as number[] };
    const reconnectMs: number[] = [];
    for (const r of results) {
      if (r.type !== 'samples') continue;
      for (const v of r.latencyMs.ws) latencyMs.ws.push(v);
      for (const v of r.latencyMs.http) latencyMs.http.push(v);
      for (const v of r.reconnectMs) reconnectMs.push(v);
    }
    return { latencyMs, reconnectMs };
  }

  /** Waits until `predicate(counters)` holds (true) or `timeoutMs` passes (false). */
  async waitFor(predicate: (c: SimCounters) => boolean, timeoutMs: number, pollMs = 100): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (predicate(this.counters())) return true;
      if (Date.now() >= end) return false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Stops every agent (after a goodbye each when `goodbye`) and the child processes; idempotent. */
  close(goodbye = false): Promise<void> {
    this.closing ??= Promise.all(
      this.parts.map(async (part) => {
        await part.call({ type: 'stop', goodbye }).catch(() => undefined);
        await part.close();
      }),
    ).then(() => undefined);
    return this.closing;
  }
}

function sumCounts(results: readonly SimResult[]): number {
  return results.reduce((sum, r) => sum + (r.type === 'count' ? r.count : 0), 0);
}

/** A forked simulator process. */
class ChildPart implements SimPart {
  private readonly child: ChildProcess;
  private latest: SimStatus | null = null;
  private waiting: { resolve: (r: SimResult) => void; reject: (e: Error) => void } | null = null;

  constructor() {
    // built JavaScript needs none of the parent's flags (a test runner's --conditions would break it)
    this.child = fork(WORKER_ENTRY, [], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: SimReply) => {
      if (message.type === 'status') {
        this.latest = { counters: message.counters, usage: message.usage };
        return;
      }
      const waiting = this.waiting;
      this.waiting = null;
      if (message.type === 'failed')
        waiting?.reject(new SimError(`simulator ${this.child.pid}: ${message.message}`));
      else waiting?.resolve(message.result);
    });
    this.child.on('close', (code, signal) => {
      this.waiting?.reject(
        new SimError(`simulator ${this.child.pid} exited (code ${code}, signal ${signal})`),
      );
      this.waiting = null;
    });
  }

  status(): SimStatus | null {
    return this.latest;
  }

  init(spec: SimShardSpec): Promise<SimResult> {
    return this.send({ type: 'init', spec });
  }

  call(command: SimCommand): Promise<SimResult> {
    return this.send({ type: 'command', command });
  }

  private send(request: SimRequest): Promise<SimResult> {
    if (this.waiting !== null) return Promise.reject(new SimError('a simulator command is already running'));
    if (this.child.exitCode !== null || !this.child.connected) {
      return Promise.reject(new SimError(`simulator ${this.child.pid} is gone`));
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send(request);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
