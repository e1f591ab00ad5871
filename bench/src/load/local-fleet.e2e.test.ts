import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { createLocalFleet } from './local-fleet.js';
import type { AgentProtocol, FleetSpec } from './types.js';

/** First message 0x01, heartbeats 0x02; any reply is valid unless it is 0xff. */
const protocol: AgentProtocol = {
  firstFrame: () => Uint8Array.of(1),
  heartbeatFrame: () => Uint8Array.of(2),
  agentId: (i) => `agent-${i}`,
  isValidReply: (_, data) => data[0] !== 0xff,
};

const servers: WebSocketServer[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          for (const client of s.clients) client.terminate();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A ws server on 127.0.0.1 whose `onMessage` decides what each message gets back. */
async function server(
  onMessage: (ws: WebSocket, data: Buffer) => void,
  verify?: WebSocketServer['options']['verifyClient'],
): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: verify });
  servers.push(wss);
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws) => ws.on('message', (data: Buffer) => onMessage(ws, data)));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/opamp` };
}

const spec = (url: string, over: Partial<FleetSpec> = {}): FleetSpec => ({
  url,
  token: null,
  start: 0,
  end: 20,
  dialConcurrency: 4,
  agentsPerSourceAddress: 8,
  replyCheck: 'echo',
  ...over,
});

describe('createLocalFleet', () => {
  it('connects every agent over several source addresses, then measures each heartbeat', async () => {
    const peers = new Set<string>();
    const { wss, url } = await server((ws, data) => ws.send(data));
    wss.on('connection', (_, req) => peers.add(req.socket.remoteAddress ?? ''));
    const fleet = createLocalFleet(spec(url), protocol);
    const connect = await fleet.connect();
    expect(connect).toMatchObject({ requested: 20, connected: 20, failed: 0, badReplies: 0, dialErrors: {} });
    expect(connect.handshakeMs).toHaveLength(20);
    expect(connect.firstReplyMs).toHaveLength(20);
    expect(connect.lastReplyAt).toBeGreaterThanOrEqual(connect.firstDialAt);
    expect([...peers].sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4']);

    const round = await fleet.round(50, 5_000);
    expect(round).toMatchObject({ sent: 20, replied: 20, unanswered: 0, badReplies: 0, unexpectedCloses: 0 });
    expect(round.latencyMs).toHaveLength(20);
    expect(round.usage.processes).toBe(1);
    expect(fleet.counters()).toEqual({ requested: 20, connected: 20, sent: 40, received: 40, errors: 0 });

    await fleet.close();
    await fleet.close();
    expect(fleet.counters().connected).toBe(0);
    await expect(fleet.round(10, 10)).rejects.toThrow(/closed/);
  });

  it('streams jittered heartbeats, measures only the marked window, and reports last answers', async () => {
    const { url } = await server((ws, data) => ws.send(data));
    const fleet = createLocalFleet(spec(url, { start: 100, end: 120 }), protocol);
    await fleet.connect();
    await fleet.startStream(50, 0.1);
    await expect(fleet.round(10, 10)).rejects.toThrow(/already running/);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const before = fleet.counters().sent;
    await fleet.markStream();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stream = await fleet.stopStream(5_000);
    expect(stream.sent).toBeGreaterThan(0);
    expect(stream.sent).toBeLessThan(fleet.counters().sent - before + 1);
    expect(stream).toMatchObject({ unanswered: 0, badReplies: 0, unexpectedCloses: 0 });
    expect(stream.replied).toBe(stream.sent);
    expect(stream.latencyMs).toHaveLength(stream.sent);
    expect(stream.sendLagMs).toHaveLength(stream.sent);
    expect(stream.windowEndedAt).toBeGreaterThan(stream.windowStartedAt);
    expect([...stream.lastAnswered.ids].sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `agent-${100 + i}`).sort(),
    );
    for (const at of stream.lastAnswered.sentAt) expect(at).toBeLessThanOrEqual(stream.windowEndedAt);
    // the stream is over: no more sends, and other phases may run again
    const sent = fleet.counters().sent;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fleet.counters().sent).toBe(sent);
    expect((await fleet.round(0, 5_000)).replied).toBe(20);
    await fleet.close();
  });

  it('retries a rejected upgrade and counts each failure by kind', async () => {
    let rejections = 2;
    const { url } = await server(
      (ws, data) => ws.send(data),
      (_info, done) => (rejections-- > 0 ? done(false, 503) : done(true)),
    );
    const fleet = createLocalFleet(spec(url, { end: 3, dialConcurrency: 1 }), protocol);
    const connect = await fleet.connect();
    expect(connect).toMatchObject({ connected: 3, failed: 0, dialErrors: { 'http-503': 2 } });
    await fleet.close();
  });

  it('gives up after three attempts when nothing listens', async () => {
    const { wss, url } = await server(() => {});
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    const fleet = createLocalFleet(spec(url, { end: 2 }), protocol);
    const connect = await fleet.connect();
    expect(connect).toMatchObject({ connected: 0, failed: 2, dialErrors: { ECONNREFUSED: 6 } });
    await fleet.close();
  });

  it('counts bad replies, unanswered heartbeats and unexpected closes', async () => {
    const { url } = await server((ws, data) => {
      if (data[0] === 1) ws.send(Uint8Array.of(0xff));
      else if (data[0] === 2) ws.close(1001);
    });
    const fleet = createLocalFleet(spec(url, { end: 5 }), protocol);
    const connect = await fleet.connect();
    expect(connect).toMatchObject({ connected: 5, badReplies: 5 });
    const round = await fleet.round(0, 200);
    expect(round).toMatchObject({ sent: 5, replied: 0, unanswered: 5, unexpectedCloses: 5 });
    expect(fleet.counters().connected).toBe(0);
    const next = await fleet.round(0, 200);
    expect(next).toMatchObject({ sent: 0, replied: 0, unanswered: 0 });
    await fleet.close();
  });

  it('reports heartbeats without a reply as unanswered once the timeout passes', async () => {
    const { url } = await server((ws, data) => {
      if (data[0] === 1) ws.send(data);
    });
    const fleet = createLocalFleet(spec(url, { end: 4 }), protocol);
    await fleet.connect();
    const round = await fleet.round(0, 100);
    expect(round).toMatchObject({ sent: 4, replied: 0, unanswered: 4, unexpectedCloses: 0 });
    await fleet.close();
  });
});
