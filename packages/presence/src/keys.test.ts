import { describe, expect, it } from 'vitest';
import { PresenceOptionError } from './errors.js';
import { DEFAULT_KEY_PREFIX, lastSeenKey, presenceKeys } from './keys.js';

describe('presenceKeys', () => {
  it('builds every name from the prefix', () => {
    const k = presenceKeys('{opamp}:');
    expect(k.prefix).toBe('{opamp}:');
    expect(k.lastSeen).toBe('{opamp}:lastseen');
    expect(k.owners).toBe('{opamp}:owners');
    expect(k.epoch).toBe('{opamp}:epoch');
    expect(k.connEpoch).toBe('{opamp}:conn_epoch');
    expect(k.session('a1')).toBe('{opamp}:session:a1');
    expect(k.takeover('a1')).toBe('{opamp}:takeover:a1');
    expect(k.gatewayChannel('gw-1')).toBe('{opamp}:gw:gw-1');
  });

  it('defaults to opamp: and rejects an empty prefix', () => {
    expect(DEFAULT_KEY_PREFIX).toBe('opamp:');
    expect(lastSeenKey()).toBe('opamp:lastseen');
    expect(() => presenceKeys('')).toThrow(PresenceOptionError);
  });
});
