import { AGENT_STATUSES, type AgentStatus } from '@opamp-fleet/db';
import type { MonotonicClock } from '@opamp-fleet/leader';
import { Gauge, type Registry } from '@opamp-fleet/telemetry';

/** Agents by stored status, as `countAgentsByStatus` reads them. */
export type FleetCounts = Readonly<Record<AgentStatus, number>>;

export interface FleetGaugesOptions {
  readonly registry: Registry;
  /** Reads the agent counts by status (one `group by status` over the agents table). */
  readonly count: () => Promise<FleetCounts>;
  /** Whether this replica leads right now; asked on every scrape. */
  readonly isLeader: () => boolean;
  /** A read older than this is refreshed by `refreshIfDue`. */
  readonly refreshIntervalMs: number;
  /** A read older than this is no longer exported (refreshes failing). Default 3 x refreshIntervalMs. */
  readonly maxAgeMs?: number;
  /** Ages the reads. Default `performance`. */
  readonly monotonic?: MonotonicClock;
}

/**
 * The fleet-wide gauge `opamp_agents{status}`, exported by the sweeper leader only, so that
 * `sum(opamp_agents)` over every replica (and every federated Prometheus) counts the fleet once.
 *
 * Contract: a scrape exports one series per status only while `isLeader()` is true and the last read
 * is at most maxAgeMs old; otherwise the metric has no series at all (never a stale or zero value
 * that would add up with the leader's). `refreshIfDue` reads the counts when due and rejects when the
 * read fails (the previous read stays until it is too old); `clear` forgets the read, and a refresh
 * started before a `clear` does not bring it back. Refreshes must not overlap.
 */
export interface FleetGauges {
  /** Reads the counts when no read is younger than refreshIntervalMs; true when it read. */
  refreshIfDue(): Promise<boolean>;
  /** Leadership lost: nothing is exported until the next refresh. */
  clear(): void;
}

export function createFleetGauges(options: FleetGaugesOptions): FleetGauges {
  return new LeaderFleetGauges(options);
}

class LeaderFleetGauges implements FleetGauges {
  private counts: FleetCounts | null = null;
  private readAt = Number.NEGATIVE_INFINITY;
  private generation = 0;
  private readonly monotonic: MonotonicClock;
  private readonly maxAgeMs: number;

  constructor(private readonly o: FleetGaugesOptions) {
    if (!Number.isFinite(o.refreshIntervalMs) || o.refreshIntervalMs <= 0) {
      throw new RangeError(`refreshIntervalMs must be a positive number, got ${o.refreshIntervalMs}`);
    }
    this.monotonic = o.monotonic ?? performance;
    this.maxAgeMs = o.maxAgeMs ?? 3 * o.refreshIntervalMs;
    const self = this;
    new Gauge({
      name: 'opamp_agents',
      help: 'Agents by stored status (online, offline, error), exported by the sweeper leader only: sum over all replicas is the fleet.',
      labelNames: ['status'],
      registers: [o.registry],
      collect() {
        this.reset();
        const counts = self.exported();
        if (counts === null) return;
        for (const status of AGENT_STATUSES) this.set({ status }, counts[status]);
      },
    });
  }

  async refreshIfDue(): Promise<boolean> {
    if (this.counts !== null && this.monotonic.now() - this.readAt < this.o.refreshIntervalMs) return false;
    const generation = this.generation;
    const startedAt = this.monotonic.now();
    const counts = await this.o.count();
    if (generation !== this.generation) return false;
    this.counts = counts;
    this.readAt = startedAt;
    return true;
  }

  clear(): void {
    this.generation += 1;
    this.counts = null;
    this.readAt = Number.NEGATIVE_INFINITY;
  }

  private exported(): FleetCounts | null {
    if (this.counts === null || !this.o.isLeader()) return null;
    return this.monotonic.now() - this.readAt <= this.maxAgeMs ? this.counts : null;
  }
}
