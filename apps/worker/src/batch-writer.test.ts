import { InvalidBatchError } from '@opamp-fleet/db';
import type { AgentEvent } from '@opamp-fleet/queue';
import { describe, expect, it } from 'vitest';
import { isPermanentWriteError, splitBatch } from './batch-writer.js';

describe('splitBatch', () => {
  it('splits events by repository, keeps their order and counts each type', () => {
    const base = { agentId: 'a', connectionEpoch: 1, gatewayId: 'g', at: 1 };
    const events: AgentEvent[] = [
      { ...base, type: 'connection_opened', connectionId: 'c1', transport: 'ws', remoteAddress: null },
      { type: 'agent_state', agentId: 'a', connectionEpoch: 1, sequenceNum: 1, at: 2 },
      { ...base, type: 'connection_closed', connectionId: 'c1', reason: 'agent_disconnect' },
      { type: 'agent_state', agentId: 'a', connectionEpoch: 1, sequenceNum: 2, at: 3 },
    ];
    const { connection, state, counts } = splitBatch(events);
    expect(connection.map((e) => e.type)).toEqual(['connection_opened', 'connection_closed']);
    expect(state.map((e) => e.sequenceNum)).toEqual([1, 2]);
    expect(counts).toEqual({ connection_opened: 1, connection_closed: 1, agent_state: 2 });
  });
});

describe('isPermanentWriteError', () => {
  const pg = (code: string) => Object.assign(new Error('pg'), { code });
  it('treats malformed batches and data or constraint errors as permanent, also when wrapped', () => {
    expect(isPermanentWriteError(new InvalidBatchError('bad'))).toBe(true);
    expect(isPermanentWriteError(pg('22P02'))).toBe(true);
    expect(isPermanentWriteError(pg('23503'))).toBe(true);
    expect(isPermanentWriteError(new Error('Failed query', { cause: pg('23514') }))).toBe(true);
  });
  it('retries connection, availability, concurrency and schema errors', () => {
    for (const code of [
      'ECONNREFUSED',
      'CONNECTION_CLOSED',
      '08006',
      '57P01',
      '40001',
      '40P01',
      '53300',
      '42P01',
    ]) {
      expect(isPermanentWriteError(pg(code))).toBe(false);
    }
    expect(isPermanentWriteError(new Error('timeout'))).toBe(false);
    expect(isPermanentWriteError(null)).toBe(false);
  });
});
