import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { decodeOwner, encodeOwner } from './connection-registry.js';
import { checkInt, PresenceDataError, PresenceOptionError } from './errors.js';
import { createPresenceWriter } from './presence-writer.js';
import { createPresenceRedis } from './redis-client.js';
import { parseRunId } from './redis-epoch.js';

describe('owner encoding', () => {
  it('round-trips owners, including separators and quotes in ids', () => {
    const owner = { gatewayId: 'gw|1"x', connectionId: 'c:2\n' };
    expect(decodeOwner(encodeOwner(owner))).toEqual(owner);
    expect(encodeOwner({ gatewayId: 'g', connectionId: 'c' })).toBe('["g","c"]');
  });

  it.each(['nope', '{}', '["g"]', '["g",1]', '["g","c","x"]'])('rejects %s', (raw) => {
    expect(() => decodeOwner(raw)).toThrow(PresenceDataError);
  });
});

describe('parseRunId', () => {
  it('reads run_id from INFO server', () => {
    const info = '# Server\r\nredis_version:7.0.15\r\nrun_id:4f1c2e0a9b\r\ntcp_port:6379\r\n';
    expect(parseRunId(info)).toBe('4f1c2e0a9b');
    expect(() => parseRunId('# Server\r\n')).toThrow(PresenceDataError);
  });
});

describe('options', () => {
  it('checkInt names the option', () => {
    expect(checkInt('x', 5, 1)).toBe(5);
    expect(() => checkInt('chunkSize', 0, 1, 10)).toThrow(/chunkSize must be an integer in \[1, 10\], got 0/);
    expect(() => checkInt('x', 1.5, 0)).toThrow(PresenceOptionError);
  });

  it('the writer validates its options before use', () => {
    const redis = new Redis({ lazyConnect: true });
    expect(() => createPresenceWriter({ redis, chunkSize: 0 })).toThrow(/chunkSize/);
    expect(() => createPresenceWriter({ redis, maxPending: -1 })).toThrow(/maxPending/);
    expect(() => createPresenceWriter({ redis, flushIntervalMs: 0 })).toThrow(/flushIntervalMs/);
    expect(() => createPresenceWriter({ redis, keyPrefix: '' })).toThrow(/keyPrefix/);
  });

  it('the presence client fails fast while disconnected', async () => {
    const redis = createPresenceRedis({ url: 'redis://127.0.0.1:1', redisOptions: { lazyConnect: true } });
    expect(redis.options.enableOfflineQueue).toBe(false);
    expect(redis.options.maxRetriesPerRequest).toBe(0);
    await expect(redis.get('x')).rejects.toThrow(/enableOfflineQueue/);
    redis.disconnect();
    expect(() => createPresenceRedis({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 0 })).toThrow(
      /commandTimeoutMs/,
    );
  });
});
