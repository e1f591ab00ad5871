import { TestAgent } from '@opamp-fleet/testkit';

const CONNECT_CONCURRENCY = 100;
const REPLY_TIMEOUT_MS = 20_000;

/** Runs `task` over `items` with at most `concurrency` in flight; rejects on the first failure. */
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
}

/**
 * WebSocket agents of one offline-detection case. Not safe for concurrent `heartbeatFor`/`loseAll`:
 * the scenario calls them one after the other. Every send time is the bench's wall clock (ms).
 */
export class OfflineFleet {
  /** Wall-clock ms of each agent's last message sent before the loss (its last heartbeat). */
  readonly lastSentMs: number[];
  private timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(readonly agents: TestAgent[]) {
    this.lastSentMs = agents.map(() => 0);
  }

  get ids(): string[] {
    return this.agents.map((a) => a.id);
  }

  /**
   * Connects `count` agents to `url`; each sends its full state (the agent goes online) and then
   * heartbeats every `intervalMs` (random phase) until `stopSending()`, so agents connected first do
   * not expire while the rest connect.
   */
  static async connect(url: string, count: number, intervalMs: number): Promise<OfflineFleet> {
    const agents: TestAgent[] = new Array(count);
    const fleet = new OfflineFleet(agents);
    try {
      await forEachLimited(agents, CONNECT_CONCURRENCY, async (_, i) => {
        const agent = await TestAgent.connect({ url, replyTimeoutMs: REPLY_TIMEOUT_MS });
        agents[i] = agent;
        fleet.lastSentMs[i] = Date.now();
        await agent.sendFullState();
        fleet.startBeating(i, intervalMs);
      });
    } catch (error) {
      fleet.terminate();
      throw error;
    }
    return fleet;
  }

  private startBeating(i: number, intervalMs: number): void {
    const agent = this.agents[i] as TestAgent;
    const beat = () => {
      if (!agent.isOpen) return;
      this.lastSentMs[i] = Date.now();
      const sent = agent.heartbeat().catch(() => undefined);
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent));
    };
    const first = setTimeout(() => {
      beat();
      this.timers.push(setInterval(beat, intervalMs));
    }, Math.random() * intervalMs);
    this.timers.push(first);
  }

  /** Keeps heartbeating for `durationMs`, then stops sending and waits for the replies in flight. */
  async heartbeatFor(durationMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    this.stopSending();
    await Promise.all([...this.inFlight]);
  }

  /** Silent loss: no more messages; the sockets stay open. */
  stopSending(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** Graceful loss: every agent sends agent_disconnect at once; returns each send time (ms). */
  async disconnectAll(): Promise<number[]> {
    const sentMs = this.agents.map(() => 0);
    await Promise.all(
      this.agents.map(async (agent, i) => {
        sentMs[i] = Date.now();
        this.lastSentMs[i] = sentMs[i] as number;
        await agent.disconnect().catch(() => undefined);
      }),
    );
    return sentMs;
  }

  /** Drops every connection (end of the case). */
  terminate(): void {
    this.stopSending();
    for (const agent of this.agents) agent?.terminate();
  }
}
