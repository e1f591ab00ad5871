import { describe, expect, it } from 'vitest';
import { InvalidBatchError } from './errors.js';
import {
  type AgentStateChanged,
  type ConnectionEvent,
  validateConnectionEvents,
  validateStateEvents,
} from './events.js';

const open: ConnectionEvent = {
  type: 'connection_opened',
  agentId: 'a',
  connectionId: 'c',
  connectionEpoch: 1,
  gatewayId: 'g',
  transport: 'ws',
  remoteAddress: null,
  at: 1,
};
const close: ConnectionEvent = {
  type: 'connection_closed',
  agentId: 'a',
  connectionId: 'c',
  connectionEpoch: 1,
  gatewayId: 'g',
  reason: 'agent_disconnect',
  at: 2,
};
const state: AgentStateChanged = {
  type: 'agent_state',
  agentId: 'a',
  connectionEpoch: 1,
  sequenceNum: 0,
  at: 1,
};

function errorOf(fn: () => void): InvalidBatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidBatchError) return e;
    throw e;
  }
  throw new Error('expected an InvalidBatchError');
}

describe('validateConnectionEvents', () => {
  it('accepts well-formed events', () => {
    expect(() =>
      validateConnectionEvents([open, close, { ...open, remoteAddress: '::1', transport: 'http' }]),
    ).not.toThrow();
    expect(() => validateConnectionEvents([])).not.toThrow();
  });

  it.each([
    ['unknown type', { ...open, type: 'connection_lost' }],
    ['agentId', { ...open, agentId: '' }],
    ['connectionId', { ...close, connectionId: 7 }],
    ['gatewayId', { ...open, gatewayId: undefined }],
    ['connectionEpoch', { ...open, connectionEpoch: 0 }],
    ['connectionEpoch', { ...open, connectionEpoch: 1.5 }],
    ['connectionEpoch', { ...close, connectionEpoch: 2 ** 60 }],
    ['at must be', { ...open, at: Number.NaN }],
    ['at must be', { ...close, at: '1' }],
    ['transport', { ...open, transport: 'grpc' }],
    ['remoteAddress', { ...open, remoteAddress: 1 }],
    ['reason', { ...close, reason: null }],
  ])('rejects %s with the index of the first bad event', (what, bad) => {
    const err = errorOf(() => validateConnectionEvents([open, bad as ConnectionEvent]));
    expect(err.name).toBe('InvalidBatchError');
    expect(err.index).toBe(1);
    expect(err.message).toContain(what);
  });
});

describe('validateStateEvents', () => {
  it('accepts well-formed events', () => {
    expect(() =>
      validateStateEvents([
        state,
        { ...state, capabilities: 3, effectiveConfigHash: 'h', health: null as never },
      ]),
    ).not.toThrow();
  });

  it.each([
    ['unknown type', { ...state, type: 'agent' }],
    ['agentId', { ...state, agentId: null }],
    ['connectionEpoch', { ...state, connectionEpoch: -1 }],
    ['sequenceNum', { ...state, sequenceNum: -1 }],
    ['at must be', { ...state, at: Number.POSITIVE_INFINITY }],
    ['capabilities', { ...state, capabilities: 0.5 }],
    ['effectiveConfigHash', { ...state, effectiveConfigHash: 5 }],
  ])('rejects %s', (what, bad) => {
    const err = errorOf(() => validateStateEvents([bad as AgentStateChanged]));
    expect(err.index).toBe(0);
    expect(err.message).toContain(what);
  });
});
