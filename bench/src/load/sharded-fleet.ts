import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetCommand, FleetReply } from './fleet-ipc.js';
import {
  mergeConnectOutcomes,
  mergeCounters,
  mergeRoundOutcomes,
  mergeStreamOutcomes,
} from './merge-outcomes.js';
import { processUsageSince } from './process-usage.js';
import { shardRanges } from './schedule.js';
import type {
  ConnectOutcome,
  FleetCounters,
  FleetSpec,
  LoadGenerator,
  RoundOutcome,
  StreamOutcome,
} from './types.js';

const WORKER_ENTRY = fileURLToPath(new URL('./fleet-worker.js', import.meta.url));

export class ShardError extends Error {
  override readonly name = 'ShardError';
}

interface Shard {
  child: ChildProcess;
  counters: FleetCounters;
  waiting: { resolve: (reply: FleetReply) => void; reject: (error: Error) => void } | null;
}

/**
 * Splits the fleet over child processes of at most `maxPerProcess` agents each (one process holds
 * at most ~19k sockets under the 20k open-file limit). Phases run on every shard in parallel.
 */
export async function createShardedFleet(spec: FleetSpec, maxPerProcess: number): Promise<LoadGenerator> {
  const shards = shardRanges(spec.end - spec.start, maxPerProcess).map(
    ({ start, end }) =>
      [{ ...spec, start: spec.start + start, end: spec.start + end }, spawnShard()] as const,
  );
  const fleet = new ShardedFleet(shards.map(([, shard]) => shard));
  try {
    await Promise.all(shards.map(([shardSpec, shard]) => ask(shard, { type: 'init', spec: shardSpec })));
  } catch (error) {
    await fleet.close();
    throw error;
  }
  return fleet;
}

function spawnShard(): Shard {
  const child = fork(WORKER_ENTRY, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const shard: Shard = {
    child,
    counters: { requested: 0, connected: 0, sent: 0, received: 0, errors: 0 },
    waiting: null,
  };
  child.on('message', (message: FleetReply) => {
    if (message.type === 'counters') {
      shard.counters = message.counters;
      return;
    }
    const waiting = shard.waiting;
    shard.waiting = null;
    if (message.type === 'failed')
      waiting?.reject(new ShardError(`generator ${child.pid}: ${message.message}`));
    else waiting?.resolve(message);
  });
  child.on('close', (code, signal) => {
    shard.waiting?.reject(new ShardError(`generator ${child.pid} exited (code ${code}, signal ${signal})`));
    shard.waiting = null;
  });
  return shard;
}

function ask(shard: Shard, command: FleetCommand): Promise<FleetReply> {
  if (shard.waiting !== null) return Promise.reject(new ShardError('a shard command is already running'));
  if (shard.child.exitCode !== null || !shard.child.connected) {
    return Promise.reject(new ShardError(`generator ${shard.child.pid} is gone`));
  }
  return new Promise((resolve, reject) => {
    shard.waiting = { resolve, reject };
    shard.child.send(command);
  });
}

class ShardedFleet implements LoadGenerator {
  private closing: Promise<void> | null = null;
  private streamCpuStart: NodeJS.CpuUsage | null = null;

  constructor(private readonly shards: readonly Shard[]) {}

  counters(): FleetCounters {
    return mergeCounters(this.shards.map((s) => s.counters));
  }

  async connect(): Promise<ConnectOutcome> {
    const cpuStart = process.cpuUsage();
    const replies = await Promise.all(this.shards.map((s) => ask(s, { type: 'connect' })));
    const parts = replies.map((r) => expectReply(r, 'connected').outcome);
    return mergeConnectOutcomes(parts, processUsageSince(cpuStart));
  }

  async round(windowMs: number, timeoutMs: number): Promise<RoundOutcome> {
    const cpuStart = process.cpuUsage();
    const replies = await Promise.all(this.shards.map((s) => ask(s, { type: 'round', windowMs, timeoutMs })));
    const parts = replies.map((r) => expectReply(r, 'rounded').outcome);
    return mergeRoundOutcomes(parts, processUsageSince(cpuStart));
  }

  async startStream(intervalMs: number, jitter: number): Promise<void> {
    await Promise.all(this.shards.map((s) => ask(s, { type: 'stream-start', intervalMs, jitter })));
  }

  async markStream(): Promise<void> {
    this.streamCpuStart = process.cpuUsage();
    await Promise.all(this.shards.map((s) => ask(s, { type: 'stream-mark' })));
  }

  async stopStream(timeoutMs: number): Promise<StreamOutcome> {
    const coordinator = processUsageSince(this.streamCpuStart ?? process.cpuUsage());
    const replies = await Promise.all(this.shards.map((s) => ask(s, { type: 'stream-stop', timeoutMs })));
    const parts = replies.map((r) => expectReply(r, 'stream-stopped').outcome);
    return mergeStreamOutcomes(parts, coordinator);
  }

  close(): Promise<void> {
    this.closing ??= Promise.all(
      this.shards.map(async (shard) => {
        await ask(shard, { type: 'close' }).catch(() => undefined);
        if (shard.child.connected) shard.child.disconnect();
      }),
    ).then(() => undefined);
    return this.closing;
  }
}

function expectReply<T extends FleetReply['type']>(
  reply: FleetReply,
  type: T,
): Extract<FleetReply, { type: T }> {
  if (reply.type !== type) throw new ShardError(`expected "${type}" from a generator, got "${reply.type}"`);
  return reply as Extract<FleetReply, { type: T }>;
}
