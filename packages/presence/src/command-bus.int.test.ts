import { eventually, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandBus, createCommandBus } from './command-bus.js';
import { type InvalidCommandError, PresenceStateError } from './errors.js';
import type { GatewayCommand } from './gateway-command.js';
import { presenceKeys } from './keys.js';
import { createPresenceRedis } from './redis-client.js';

let fx: RedisFixture;
let redis: Redis;
let keyPrefix: string;
const buses: CommandBus[] = [];

beforeAll(async () => {
  fx = await redisFixture();
  keyPrefix = fx.prefix;
  redis = createPresenceRedis({ url: fx.url, redisOptions: { lazyConnect: true } });
  await redis.connect();
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  redis.disconnect();
  await fx.stop();
});

function bus(observer = {}): CommandBus {
  const b = createCommandBus({ redis, keyPrefix, observer });
  buses.push(b);
  return b;
}

const close = (agentId: string, connectionId = 'c1'): GatewayCommand => ({
  type: 'close',
  agentId,
  connectionId,
  reason: 'replaced',
});

describe('CommandBus', () => {
  it('delivers commands to the addressed gateway only, in order, and counts receivers', async () => {
    const a = bus();
    const b = bus();
    const gotA: GatewayCommand[] = [];
    const gotB: GatewayCommand[] = [];
    await a.subscribe('gw-a', (cmd) => void gotA.push(cmd));
    await b.subscribe('gw-b', (cmd) => void gotB.push(cmd));
    const sender = bus();

    const counts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sender.send('gw-a', close(`a${i}`))),
    );
    expect(counts.every((n) => n === 1)).toBe(true);
    expect(await sender.send('gw-b', { ...close('b0'), reason: 'reconnect_requested' })).toBe(1);
    expect(await sender.send('gw-nobody', close('x'))).toBe(0);

    await eventually(() => expect(gotA).toHaveLength(20));
    expect(gotA.map((c) => c.agentId)).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
    await eventually(() => expect(gotB).toEqual([{ ...close('b0'), reason: 'reconnect_requested' }]));
  });

  it('reports invalid payloads and handler failures to the observer and keeps delivering', async () => {
    const invalid: Array<[InvalidCommandError, string]> = [];
    const errors: unknown[] = [];
    const receiver = bus({
      onInvalid: (err: InvalidCommandError, gw: string) => invalid.push([err, gw]),
      onError: (err: unknown) => errors.push(err),
    });
    const got: string[] = [];
    await receiver.subscribe('gw-v', async (cmd) => {
      if (cmd.agentId === 'boom') throw new Error('handler failed');
      if (cmd.agentId === 'sync-boom') throw new Error('sync');
      got.push(cmd.agentId);
    });
    const channel = presenceKeys(keyPrefix).gatewayChannel('gw-v');
    await redis.publish(channel, 'not json');
    await redis.publish(channel, JSON.stringify({ type: 'close', agentId: 'a' }));
    const sender = bus();
    await sender.send('gw-v', close('boom'));
    await sender.send('gw-v', close('ok'));
    await eventually(() => expect(got).toEqual(['ok']));
    expect(invalid.map(([e, gw]) => [e.raw, gw])).toEqual([
      ['not json', 'gw-v'],
      ['{"type":"close","agentId":"a"}', 'gw-v'],
    ]);
    expect(errors).toHaveLength(1);

    await expect(sender.send('gw-v', { ...close('x'), reason: 'nope' as 'replaced' })).rejects.toThrow(
      /close reason/,
    );
  });

  it('unsubscribes, refuses a second handler for a gateway, and closes idempotently', async () => {
    const receiver = bus();
    const got: string[] = [];
    const unsubscribe = await receiver.subscribe('gw-u', (cmd) => void got.push(cmd.agentId));
    await expect(receiver.subscribe('gw-u', () => {})).rejects.toThrow(PresenceStateError);
    const sender = bus();
    expect(await sender.send('gw-u', close('one'))).toBe(1);
    await eventually(() => expect(got).toEqual(['one']));
    await unsubscribe();
    await unsubscribe();
    expect(await sender.send('gw-u', close('two'))).toBe(0);

    await receiver.subscribe('gw-u', () => {}); // free again after unsubscribe
    await receiver.close();
    await receiver.close();
    expect(await sender.send('gw-u', close('three'))).toBe(0);
    await expect(receiver.subscribe('gw-u2', () => {})).rejects.toThrow(PresenceStateError);
  });
});
