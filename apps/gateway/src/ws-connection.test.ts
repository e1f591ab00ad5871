import { uidIdToBytes } from '@opamp-fleet/opamp';
import { describe, expect, it } from 'vitest';
import type { WireSocket } from './uws-server.js';
import { WsConnection } from './ws-connection.js';

const ID = '0190abcd-ef01-7000-8000-00000000002a';

function socket(): WireSocket {
  return {
    closed: false,
    remoteAddress: '10.0.0.9',
    send: () => 'sent',
    end() {},
    destroy() {},
    bufferedAmount: () => 0,
    corked: (fn) => fn(),
  };
}

describe('WsConnection', () => {
  it('keeps the last uid as the agent id when it is that id, and returns the same bytes', () => {
    const conn = new WsConnection('c-1', socket(), 12.7);
    conn.lastUid = uidIdToBytes(ID);
    conn.compactUid(); // not bound yet: the bytes stay
    expect(conn.lastUid).toEqual(uidIdToBytes(ID));
    conn.agentId = ID;
    conn.compactUid();
    expect(conn.lastUid).toEqual(uidIdToBytes(ID));
    const other = crypto.getRandomValues(new Uint8Array(16));
    conn.lastUid = other;
    conn.compactUid();
    expect(conn.lastUid).toBe(other);
    const legacy = new TextEncoder().encode('01ARZ3NDEKTSV4RRFFQ69G5FAV');
    conn.lastUid = legacy;
    conn.compactUid();
    expect(conn.lastUid).toBe(legacy);
  });

  it('keeps times in whole milliseconds, never later than given', () => {
    const conn = new WsConnection('c-1', socket(), 12.7);
    expect(conn.openedAt).toBe(12);
    expect(conn.lastSeenAt).toBe(12);
    conn.lastSeenAt = 99.99;
    expect(conn.lastSeenAt).toBe(99);
    expect(conn.transport).toBe('ws');
    expect(conn.remoteAddress).toBe('10.0.0.9');
  });
});
