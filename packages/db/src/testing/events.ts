import {
  type ConnectionClosed,
  type ConnectionEvent,
  type ConnectionOpened,
  isTransientClose,
} from '../events.js';

export interface EventFactoryDefaults {
  agentId?: string;
  gatewayId?: string;
  /** ms since the Unix epoch. */
  at?: number;
}

/** A ConnectionOpened with test defaults (agent 'agent-1', gateway 'gw-1', ws, 10.0.0.1). */
export function opened(
  connectionId: string,
  connectionEpoch: number,
  fields: Partial<Omit<ConnectionOpened, 'type' | 'connectionId' | 'connectionEpoch'>> = {},
): ConnectionOpened {
  return {
    type: 'connection_opened',
    agentId: 'agent-1',
    connectionId,
    connectionEpoch,
    gatewayId: 'gw-1',
    transport: 'ws',
    remoteAddress: '10.0.0.1',
    at: Date.UTC(2026, 0, 1) + connectionEpoch * 60_000,
    ...fields,
  };
}

/** A ConnectionClosed with test defaults (reason 'connection_closed', 30 s after the default open). */
export function closed(
  connectionId: string,
  connectionEpoch: number,
  fields: Partial<Omit<ConnectionClosed, 'type' | 'connectionId' | 'connectionEpoch'>> = {},
): ConnectionClosed {
  return {
    type: 'connection_closed',
    agentId: 'agent-1',
    connectionId,
    connectionEpoch,
    gatewayId: 'gw-1',
    reason: 'connection_closed',
    at: Date.UTC(2026, 0, 1) + connectionEpoch * 60_000 + 30_000,
    ...fields,
  };
}

/** A deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled copy (Fisher-Yates). */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface RandomScenarioOptions {
  agents?: number;
  maxConnectionsPerAgent?: number;
  /** Probability that a connection's open event exists. Default 0.9. */
  openProbability?: number;
  /** Probability that a connection's close event exists. Default 0.7. */
  closeProbability?: number;
}

export interface RandomScenario {
  events: ConnectionEvent[];
  /**
   * Per agent: the connection with the highest epoch among those with an open or a non-transient
   * close, and whether that close is among the events; connectionId null (and closed) when the agent
   * only has transient closes.
   */
  newest: Map<string, { connectionId: string | null; closed: boolean }>;
}

/**
 * Random connection lifecycles of several agents with increasing epochs (as Redis INCR hands them
 * out), some opens or closes missing (not yet delivered), in lifecycle order.
 */
export function randomConnectionScenario(
  random: () => number,
  options: RandomScenarioOptions = {},
): RandomScenario {
  const agents = options.agents ?? 6;
  const maxConnections = options.maxConnectionsPerAgent ?? 4;
  const reasons = [
    'agent_disconnect',
    'connection_closed',
    'heartbeat_timeout',
    'gateway_shutdown',
    'reconnect_requested',
    'replaced',
  ];
  const events: ConnectionEvent[] = [];
  const newest: RandomScenario['newest'] = new Map();
  let epoch = 0;
  let clock = Date.UTC(2026, 0, 1);
  for (let a = 0; a < agents; a++) {
    const agentId = `agent-${a}`;
    const count = 1 + Math.floor(random() * maxConnections);
    for (let c = 0; c < count; c++) {
      epoch += 1 + Math.floor(random() * 3);
      const connectionId = `${agentId}/conn-${epoch}`;
      const gatewayId = `gw-${Math.floor(random() * 3)}`;
      clock += Math.floor(random() * 10_000);
      const hasOpen = random() < (options.openProbability ?? 0.9);
      const hasClose = random() < (options.closeProbability ?? 0.7);
      if (!hasOpen && !hasClose) continue;
      if (hasOpen) {
        const transport = random() < 0.5 ? 'ws' : 'http';
        events.push(
          opened(connectionId, epoch, { agentId, gatewayId, transport, at: clock, remoteAddress: null }),
        );
      }
      const closeReason = hasClose ? reasons[Math.floor(random() * reasons.length)]! : null;
      if (hasClose) {
        const reason = closeReason!;
        events.push(
          closed(connectionId, epoch, {
            agentId,
            gatewayId,
            reason,
            at: clock + 1 + Math.floor(random() * 60_000),
          }),
        );
      }
      // a transient close alone leaves status, current connection and epoch as they were
      const transientClose = hasClose && isTransientClose(closeReason!);
      if (hasOpen || (hasClose && !transientClose)) {
        newest.set(agentId, { connectionId, closed: hasClose && !transientClose });
      } else if (!newest.has(agentId)) {
        newest.set(agentId, { connectionId: null, closed: true });
      }
    }
  }
  return { events, newest };
}
