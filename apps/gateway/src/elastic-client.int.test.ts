import dc from 'node:diagnostics_channel';
import { createOpAMPClient } from '@elastic/opamp-client-node';
import { uint64ToBitmask } from '@opamp-fleet/opamp';
import { readLastSeen } from '@opamp-fleet/presence';
import { eventually, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './testing/harness.js';

let fx: RedisFixture;
let gw: TestGateway;

beforeAll(async () => {
  fx = await redisFixture();
  gw = await startTestGateway(fx.url, fx.prefix, { OPAMP_AUTH_TOKENS: 'tok' });
});
afterAll(async () => {
  await gw?.stop();
  await fx?.stop();
});

describe('@elastic/opamp-client-node over plain HTTP', () => {
  it('gets correct replies, heartbeats and is seen in presence', async () => {
    const exchanges: { seq: number; flags: number }[] = [];
    const failures: unknown[] = [];
    const onSuccess = (m: unknown) => {
      const { a2s, s2a } = m as { a2s: { sequenceNum: bigint }; s2a: { flags: bigint } };
      exchanges.push({ seq: Number(a2s.sequenceNum), flags: uint64ToBitmask(Number(s2a.flags)) });
    };
    const onFail = (m: unknown) => failures.push((m as { err: unknown }).err);
    dc.subscribe('opamp-client.send.success', onSuccess);
    dc.subscribe('opamp-client.send.fail', onFail);
    const instanceUid = '01900000-0000-7000-8000-0000000000e1';
    const client = createOpAMPClient({
      endpoint: gw.httpUrl,
      headers: { authorization: 'Bearer tok' },
      instanceUid,
      heartbeatIntervalSeconds: 0.2,
      diagEnabled: true,
    });
    client.setAgentDescription({ identifyingAttributes: { 'service.name': 'elastic' } });
    client.start();
    try {
      await eventually(() => expect(exchanges.length).toBeGreaterThanOrEqual(3), { timeoutMs: 10_000 });
      expect(failures).toEqual([]);
      expect(exchanges.every((e) => e.flags === 0)).toBe(true);
      await eventually(async () => {
        expect((await readLastSeen(gw.redis, [instanceUid], fx.prefix)).get(instanceUid)).not.toBeNull();
      });
    } finally {
      await client.shutdown();
      dc.unsubscribe('opamp-client.send.success', onSuccess);
      dc.unsubscribe('opamp-client.send.fail', onFail);
    }
  });
});
