import { describe, expect, it } from 'vitest';
import { InvalidBatchError } from '../errors.js';
import type { AgentStateChanged } from '../events.js';
import {
  dumpTables,
  opened,
  seededRandom,
  shuffle,
  truncateTables,
  useMigratedDatabase,
} from '../testing/index.js';
import { applyConnectionEvents } from './connection-events.js';
import { getAgent } from './reads.js';
import { applyStateEvents } from './state-events.js';

const h = useMigratedDatabase({ max: 2 });

const state = (
  connectionEpoch: number,
  sequenceNum: number,
  fields: Partial<AgentStateChanged> = {},
): AgentStateChanged => ({
  type: 'agent_state',
  agentId: 'agent-1',
  connectionEpoch,
  sequenceNum,
  at: Date.UTC(2026, 0, 1) + sequenceNum,
  ...fields,
});

const description = (version: string) => ({
  identifying: { 'service.name': 'otelcol', 'service.instance.id': 'i-1' },
  nonIdentifying: { 'os.type': 'linux', 'service.version': version, tags: ['a', 'b\'"{}'], nested: { n: 1 } },
});

async function applyAndReplay(batch: AgentStateChanged[]) {
  const result = await applyStateEvents(h.db, batch);
  const before = await dumpTables(h.db, { physical: true });
  expect(await applyStateEvents(h.db, batch)).toEqual({ agentsCreated: 0, agentsUpdated: 0 });
  expect(await dumpTables(h.db, { physical: true })).toEqual(before);
  return result;
}

describe('applyStateEvents', () => {
  it('stores every field of a full report, for a known agent, without touching its status', async () => {
    await applyConnectionEvents(h.db, [opened('c1', 1)]);
    const health = {
      healthy: true,
      status: 'StatusOK',
      componentHealthMap: { 'pipeline:traces': { healthy: true } },
    };
    const result = await applyAndReplay([
      state(1, 0, {
        description: description('1.0'),
        capabilities: 0x1fff,
        health,
        effectiveConfigHash: 'abc123',
      }),
    ]);
    expect(result).toEqual({ agentsCreated: 0, agentsUpdated: 1 });
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'online',
      description: description('1.0'),
      capabilities: 0x1fff,
      health,
      effectiveConfigHash: 'abc123',
      lastSequenceNum: 0,
      stateEpoch: 1,
      stateSeq: 0,
    });
  });

  it('creates an unknown agent offline', async () => {
    expect(await applyAndReplay([state(3, 7, { capabilities: 1 })])).toEqual({
      agentsCreated: 1,
      agentsUpdated: 1,
    });
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      status: 'offline',
      capabilities: 1,
      description: null,
    });
  });

  it('changes only the fields present; undefined and null mean absent', async () => {
    await applyAndReplay([
      state(1, 1, { description: description('1.0'), capabilities: 5, effectiveConfigHash: 'h1' }),
    ]);
    await applyAndReplay([
      state(1, 2, { health: { healthy: false, lastError: 'boom' }, capabilities: undefined }),
    ]);
    await applyAndReplay([state(1, 3, { effectiveConfigHash: 'h2', description: null as never })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      description: description('1.0'),
      capabilities: 5,
      health: { healthy: false, lastError: 'boom' },
      effectiveConfigHash: 'h2',
      lastSequenceNum: 3,
    });
  });

  it('never lets an older (epoch, sequence) overwrite a newer one; a new connection restarts sequences', async () => {
    await applyAndReplay([state(2, 10, { effectiveConfigHash: 'new' })]);
    expect(await applyStateEvents(h.db, [state(2, 9, { effectiveConfigHash: 'old' })])).toMatchObject({
      agentsUpdated: 0,
    });
    expect(
      await applyStateEvents(h.db, [state(1, 50, { effectiveConfigHash: 'older connection' })]),
    ).toMatchObject({
      agentsUpdated: 0,
    });
    expect(await applyStateEvents(h.db, [state(2, 10, { effectiveConfigHash: 'same pair' })])).toMatchObject({
      agentsUpdated: 0,
    });
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      effectiveConfigHash: 'new',
      stateEpoch: 2,
      stateSeq: 10,
    });

    await applyAndReplay([state(3, 0, { effectiveConfigHash: 'after restart' })]);
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      effectiveConfigHash: 'after restart',
      stateEpoch: 3,
      stateSeq: 0,
      lastSequenceNum: 0,
    });
  });

  it('applies one batch in (epoch, sequence) order whatever its order, merging fields of later reports', async () => {
    const events = [
      state(1, 1, { description: description('1.0'), capabilities: 1 }),
      state(1, 2, { capabilities: 2, effectiveConfigHash: 'h2' }),
      state(1, 3, { health: { healthy: true } }),
      state(2, 0, { description: description('2.0') }),
      state(1, 4, { effectiveConfigHash: 'h4' }),
      state(1, 1, { agentId: 'agent-2', capabilities: 9 }),
    ];
    const random = seededRandom(7);
    let reference: unknown;
    for (let i = 0; i < 6; i++) {
      await truncateTables(h.db);
      await applyAndReplay(shuffle([...events, ...events.slice(0, 2)], random));
      const dump = await dumpTables(h.db);
      reference ??= dump;
      expect(dump).toEqual(reference);
    }
    expect(await getAgent(h.db, 'agent-1')).toMatchObject({
      description: description('2.0'),
      capabilities: 2,
      health: { healthy: true },
      effectiveConfigHash: 'h4',
      stateEpoch: 2,
      stateSeq: 0,
    });
    expect(await getAgent(h.db, 'agent-2')).toMatchObject({ capabilities: 9 });
  });

  it('rejects a malformed batch before writing; an empty batch is a no-op', async () => {
    await expect(applyStateEvents(h.db, [state(1, 1), state(1, -2)])).rejects.toBeInstanceOf(
      InvalidBatchError,
    );
    expect(await applyStateEvents(h.db, [])).toEqual({ agentsCreated: 0, agentsUpdated: 0 });
    expect((await dumpTables(h.db)).agents).toEqual([]);
  });
});
