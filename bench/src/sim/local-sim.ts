/**
 * `LocalSim`: the agents of one simulator process, in slots `firstSlot ..< firstSlot + count`, each
 * on its transport (`transportFor`) and source address (`sourceAddressFor`). Serves the commands of
 * sim-ipc.ts: start (dial everyone, `dialConcurrency` at a time), leave (half graceful, half silent),
 * join (fresh agents in vacated slots), sequence gaps, samples, stop.
 */
import type http from 'node:http';
import { sourceAddressFor } from '../load/schedule.js';
import { emptyCounters, ownUsage } from './counters.js';
import { createHttpPool, HttpAgent } from './http-agent.js';
import { SampleBuffer } from './samples.js';
import type { SimAgent, SimEnv } from './sim-agent.js';
import type { LeftAgent, SimCommand, SimResult, SimShardSpec, SimStatus } from './sim-ipc.js';
import { WsAgent } from './ws-agent.js';

/** Whether slot `slot` is an HTTP agent when `httpShare` of all slots are (spread evenly). */
export function transportFor(slot: number, httpShare: number): 'ws' | 'http' {
  return Math.floor((slot + 1) * httpShare) > Math.floor(slot * httpShare) ? 'http' : 'ws';
}

/** `count` distinct random indices of `0..<size` (all when count >= size). */
export function pickRandom(size: number, count: number, random: () => number): number[] {
  const indices = Array.from({ length: size }, (_, i) => i);
  const n = Math.min(count, size);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (size - i));
    [indices[i], indices[j]] = [indices[j] as number, indices[i] as number];
  }
  return indices.slice(0, n);
}

export class LocalSim {
  private readonly env: SimEnv;
  private readonly slots: (SimAgent | null)[];
  /** Silently dead agents whose sockets may still be open; terminated at stop. */
  private readonly dead = new Set<SimAgent>();
  private readonly pools = new Map<string, http.Agent>();
  private leftGraceful = 0;
  private leftSilent = 0;

  constructor(private readonly spec: SimShardSpec) {
    this.env = {
      url: spec.url,
      token: spec.token,
      counters: emptyCounters(),
      latencyMs: { ws: new SampleBuffer(spec.sampleCapacity), http: new SampleBuffer(spec.sampleCapacity) },
      reconnectMs: new SampleBuffer(spec.sampleCapacity),
      backoff: spec.backoff,
      jitter: spec.jitter,
      echo: spec.echo,
      random: Math.random,
    };
    this.slots = Array.from({ length: spec.count }, () => null);
  }

  status(): SimStatus {
    return { counters: this.env.counters, usage: ownUsage() };
  }

  async handle(command: SimCommand): Promise<SimResult> {
    switch (command.type) {
      case 'start':
        await this.start();
        return { type: 'done' };
      case 'mark':
        this.env.latencyMs.ws.clear();
        this.env.latencyMs.http.clear();
        this.env.reconnectMs.clear();
        return { type: 'done' };
      case 'leave':
        return { type: 'left', agents: await this.leave(command.count) };
      case 'join':
        return { type: 'count', count: this.join(command.count) };
      case 'gap':
        return { type: 'count', count: this.gap(command.count) };
      case 'ids':
        return { type: 'ids', ids: this.running().map((a) => a.state.id) };
      case 'samples':
        return {
          type: 'samples',
          latencyMs: { ws: this.env.latencyMs.ws.toArray(), http: this.env.latencyMs.http.toArray() },
          reconnectMs: this.env.reconnectMs.toArray(),
        };
      case 'stop':
        await this.stop(command.goodbye);
        return { type: 'done' };
    }
  }

  private create(index: number): SimAgent {
    const slot = this.spec.firstSlot + index;
    const address = sourceAddressFor(slot, this.spec.agentsPerAddress);
    if (transportFor(slot, this.spec.httpShare) === 'ws') {
      return new WsAgent(this.env, slot, this.spec.heartbeatMs, address);
    }
    this.env.counters.startedHttp++;
    let pool = this.pools.get(address);
    if (pool === undefined) {
      pool = createHttpPool(address);
      this.pools.set(address, pool);
    }
    return new HttpAgent(this.env, slot, this.spec.heartbeatMs, address, pool);
  }

  /** Dials every slot, at most `dialConcurrency` unsettled at once; resolves when all settled once. */
  private async start(): Promise<void> {
    let next = 0;
    const lanes = Array.from({ length: Math.min(this.spec.dialConcurrency, this.slots.length) }, async () => {
      while (next < this.slots.length) {
        const index = next++;
        const agent = this.create(index);
        this.slots[index] = agent;
        agent.start();
        await agent.settled;
      }
    });
    await Promise.all(lanes);
  }

  private running(): SimAgent[] {
    return this.slots.filter((a): a is SimAgent => a !== null && a.mode === 'running');
  }

  /** `count` random running agents leave, alternating graceful and silent (half each overall). */
  private async leave(count: number): Promise<LeftAgent[]> {
    const running = this.running();
    const chosen = pickRandom(running.length, count, this.env.random).map((i) => running[i] as SimAgent);
    const left: LeftAgent[] = [];
    const goodbyes: Promise<void>[] = [];
    for (const agent of chosen) {
      const graceful = this.leftGraceful <= this.leftSilent;
      const entry: LeftAgent = {
        id: agent.state.id,
        mode: graceful ? 'graceful' : 'silent',
        transport: agent.transport,
        atMs: Date.now(),
      };
      if (graceful) {
        this.leftGraceful++;
        goodbyes.push(agent.leave());
      } else {
        this.leftSilent++;
        agent.die();
        this.dead.add(agent);
      }
      left.push(entry);
    }
    await Promise.all(goodbyes);
    return left;
  }

  /** Fresh agents (new uids) in up to `count` vacated slots; returns how many joined. */
  private join(count: number): number {
    let joined = 0;
    for (let i = 0; i < this.slots.length && joined < count; i++) {
      const agent = this.slots[i];
      if (agent != null && agent.mode === 'running') continue;
      const fresh = this.create(i);
      this.slots[i] = fresh;
      fresh.start();
      joined++;
    }
    this.env.counters.joins += joined;
    return joined;
  }

  /** `count` random connected agents lose their next message (the server sees a sequence gap). */
  private gap(count: number): number {
    const connected = this.running().filter((a) => a.isConnected);
    const chosen = pickRandom(connected.length, count, this.env.random);
    for (const i of chosen) (connected[i] as SimAgent).loseNextMessage();
    return chosen.length;
  }

  private async stop(goodbye: boolean): Promise<void> {
    const agents = this.slots.filter((a): a is SimAgent => a !== null);
    if (goodbye) await Promise.all(agents.map((a) => a.leave()));
    for (const agent of [...agents, ...this.dead]) agent.terminate();
    this.dead.clear();
    for (const pool of this.pools.values()) pool.destroy();
  }
}
