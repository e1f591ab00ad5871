import { request } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  decodeServerToAgent,
  encodeAgentToServer,
  newInstanceUid,
  ServerErrorResponseType,
  ServerToAgentFlags,
  uidBytesToId,
  uint64ToBitmask,
} from '@opamp-fleet/opamp';
import { createConnectionRegistry, readLastSeen } from '@opamp-fleet/presence';
import { eventually, type RedisFixture, redisFixture } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './testing/harness.js';

let fx: RedisFixture;
let gw: TestGateway;
const MAX = 4096;

beforeAll(async () => {
  fx = await redisFixture();
  gw = await startTestGateway(fx.url, fx.prefix, { MAX_MESSAGE_BYTES: String(MAX) });
});
afterAll(async () => {
  await gw?.stop();
  await fx?.stop();
});

function post(body: Uint8Array | string, headers: Record<string, string> = {}) {
  return fetch(gw.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...headers },
    body,
  });
}

/** POST with node:http, which (unlike fetch) sends no Accept-Encoding of its own. */
function rawPost(body: Uint8Array, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; data: Buffer }>(
    (resolve, reject) => {
      const req = request(
        gw.httpUrl,
        { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, data: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end(Buffer.from(body));
    },
  );
}

async function s2a(res: Response) {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-protobuf');
  return decodeServerToAgent(new Uint8Array(await res.arrayBuffer()));
}

const full = (uid: Uint8Array, seq: number) =>
  encodeAgentToServer({
    instanceUid: uid,
    sequenceNum: seq,
    capabilities: 0x2101,
    agentDescription: { identifyingAttributes: [{ key: 'service.name', value: { stringValue: 'http' } }] },
  });
const beat = (uid: Uint8Array, seq: number) =>
  encodeAgentToServer({ instanceUid: uid, sequenceNum: seq, capabilities: 0x2101 });
const flagsOf = (r: { flags: unknown }) => uint64ToBitmask(r.flags as number);

describe('plain HTTP transport', () => {
  it('answers a poll with an S2A echoing the uid, touches presence and holds no registry entry', async () => {
    const uid = newInstanceUid();
    const reply = await s2a(await post(full(uid, 1)));
    expect(Buffer.from(reply.instanceUid).equals(Buffer.from(uid))).toBe(true);
    expect(reply.connectionSettings?.opamp).toBeTruthy();
    expect(flagsOf(await s2a(await post(beat(uid, 2))))).toBe(0);
    expect(flagsOf(await s2a(await post(beat(uid, 4)))) & ServerToAgentFlags.ReportFullState).toBe(1);
    const id = uidBytesToId(uid);
    await eventually(async () =>
      expect((await readLastSeen(gw.redis, [id], fx.prefix)).get(id)).not.toBeNull(),
    );
    expect(await createConnectionRegistry({ redis: gw.redis, keyPrefix: fx.prefix }).lookup(id)).toBeNull();
  });

  it('accepts gzip request bodies and gzips the reply only when Accept-Encoding lists gzip with q>0', async () => {
    const uid = newInstanceUid();
    const plain = await rawPost(gzipSync(full(uid, 1)), { 'content-encoding': 'gzip' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-type']).toBe('application/x-protobuf');
    expect(Buffer.from(decodeServerToAgent(plain.data).instanceUid).equals(Buffer.from(uid))).toBe(true);

    const zipped = await rawPost(beat(uid, 2), { 'accept-encoding': 'deflate, gzip;q=0.5' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const reply = decodeServerToAgent(new Uint8Array(gunzipSync(zipped.data)));
    expect(Buffer.from(reply.instanceUid).equals(Buffer.from(uid))).toBe(true);

    const refused = await rawPost(beat(uid, 3), { 'accept-encoding': 'gzip;q=0, identity' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(decodeServerToAgent(refused.data).errorResponse).toBeNull();
  });

  it('answers a malformed body with 200 and BAD_REQUEST, echoing the OpAMP-Instance-UID header', async () => {
    const uid = newInstanceUid();
    const reply = await s2a(
      await post(Uint8Array.from([0xff, 0xff]), { 'opamp-instance-uid': uidBytesToId(uid) }),
    );
    expect(reply.errorResponse?.type).toBe(ServerErrorResponseType.BadRequest);
    expect(Buffer.from(reply.instanceUid).equals(Buffer.from(uid))).toBe(true);
    const empty = await s2a(await post(new Uint8Array(0)));
    expect(empty.errorResponse?.type).toBe(ServerErrorResponseType.BadRequest);
    const badGzip = await s2a(await post('not gzip', { 'content-encoding': 'gzip' }));
    expect(badGzip.errorResponse?.type).toBe(ServerErrorResponseType.BadRequest);
  });

  it('refuses bodies over the limit with 413, also when they only inflate past it', async () => {
    expect((await post(new Uint8Array(MAX + 1))).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(MAX * 50));
    expect(bomb.length).toBeLessThan(MAX);
    expect((await post(bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
    expect(await gw.metric('opamp_gateway_rejected_requests_total', { reason: 'too_large' })).toBe(2);
    expect((await s2a(await post(full(newInstanceUid(), 1)))).errorResponse).toBeNull();
  });

  it('refuses other methods, media types, encodings and paths', async () => {
    expect((await fetch(gw.httpUrl)).status).toBe(426);
    expect((await fetch(gw.httpUrl, { method: 'PUT' })).status).toBe(405);
    expect((await post('x', { 'content-type': 'application/json' })).status).toBe(415);
    expect((await post('x', { 'content-encoding': 'br' })).status).toBe(415);
    expect((await fetch(gw.httpUrl.replace('/v1/opamp', '/nope'), { method: 'POST' })).status).toBe(404);
    expect(await gw.metric('opamp_gateway_connections', { transport: 'http' })).toBe(0);
  });
});
