import { describe, expect, it } from 'vitest';
import {
  type AgentEvent,
  eventBatchSchema,
  MAX_EVENTS_PER_BATCH,
  parseEventBatch,
  QUEUES,
  queuePrefix,
  retryDelayMs,
} from './catalog.js';

const opened: AgentEvent = {
  type: 'connection_opened',
  agentId: 'a1',
  connectionId: 'c1',
  connectionEpoch: 1,
  gatewayId: 'gw-1',
  transport: 'ws',
  remoteAddress: '10.0.0.1',
  at: 1_700_000_000_000,
};
const closed: AgentEvent = {
  type: 'connection_closed',
  agentId: 'a1',
  connectionId: 'c1',
  connectionEpoch: 1,
  gatewayId: 'gw-1',
  reason: 'agent_disconnect',
  at: 1_700_000_001_000,
};
const state: AgentEvent = {
  type: 'agent_state',
  agentId: 'a1',
  connectionEpoch: 1,
  sequenceNum: 0,
  at: 1_700_000_000_500,
  description: { identifying: { 'service.name': 'otelcol' }, nonIdentifying: { 'os.type': 'linux', n: 3 } },
  capabilities: 0x1fff,
  health: { healthy: true, components: { a: { healthy: false, last_error: 'x' } } },
  effectiveConfigHash: 'abc',
};

const batch = (events: unknown[]) => ({ v: 1, producerId: 'gw-1', seq: 0, events });

describe('event batch catalog', () => {
  it('accepts every event type, with optional state fields absent', () => {
    const minimal = { type: 'agent_state', agentId: 'a2', connectionEpoch: 2, sequenceNum: 7, at: 1 };
    const parsed = parseEventBatch(batch([opened, closed, state, minimal]));
    expect(parsed.events).toHaveLength(4);
    expect(parsed.events[2]).toEqual(state);
    expect(parseEventBatch(batch([{ ...opened, remoteAddress: null }])).events[0]).toMatchObject({
      remoteAddress: null,
    });
  });

  it.each([
    ['an unknown type', { ...opened, type: 'connection_lost' }],
    ['an empty agent id', { ...opened, agentId: '' }],
    ['a zero epoch', { ...closed, connectionEpoch: 0 }],
    ['a fractional epoch', { ...closed, connectionEpoch: 1.5 }],
    ['an unknown transport', { ...opened, transport: 'mqtt' }],
    ['a missing reason', { ...closed, reason: undefined }],
    ['a non-finite time', { ...opened, at: Number.POSITIVE_INFINITY }],
    ['a negative sequence number', { ...state, sequenceNum: -1 }],
    ['a description without its parts', { ...state, description: { identifying: {} } }],
    ['a health that is not JSON', { ...state, health: { f: () => 1 } }],
  ])('rejects %s', (_, event) => {
    expect(() => parseEventBatch(batch([event]))).toThrow();
  });

  it('rejects an empty batch, an oversized batch and an unknown version', () => {
    expect(() => parseEventBatch(batch([]))).toThrow();
    expect(() =>
      parseEventBatch(batch(Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, () => opened))),
    ).toThrow();
    expect(eventBatchSchema.safeParse({ ...batch([opened]), v: 2 }).success).toBe(false);
    expect(eventBatchSchema.safeParse(null).success).toBe(false);
  });

  it('names queues without ":" and derives the BullMQ prefix from the key prefix', () => {
    for (const name of Object.values(QUEUES)) expect(name).not.toContain(':');
    expect(queuePrefix('opamp:')).toBe('opamp:bull');
    expect(queuePrefix('{opamp}:')).toBe('{opamp}:bull');
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base and stops at the cap', () => {
    const noJitter = (n: number) => retryDelayMs(n, 1000, 30_000, 0);
    expect([1, 2, 3, 4, 5, 6, 7, 100_000].map(noJitter)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('takes at most the jitter share off', () => {
    expect(retryDelayMs(3, 1000, 30_000, 0.2, () => 0)).toBe(4000);
    expect(retryDelayMs(3, 1000, 30_000, 0.2, () => 0.999_999)).toBe(3200);
    expect(retryDelayMs(0, 1000, 30_000, 0)).toBe(1000);
  });
});
