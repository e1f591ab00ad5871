import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runStorm } from './connect-storm-fleet.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** An echo WebSocket server that refuses its first `refusals` upgrades with 503 + Retry-After: 1. */
async function refusingEcho(refusals: number): Promise<string> {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data, { binary: true })));
  let refused = 0;
  server = createServer();
  server.on('upgrade', (req, socket, head) => {
    if (refused++ < refusals) {
      socket.end(
        'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  server.on('close', () => {
    for (const client of wss.clients) client.terminate();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/opamp`;
}

describe('runStorm', () => {
  it('retries refused upgrades after Retry-After until every agent is connected', async () => {
    const url = await refusingEcho(4);
    const storm = runStorm(
      {
        url,
        agents: 10,
        dialConcurrency: 10,
        agentsPerSourceAddress: 5000,
        addressOffset: 0,
        replyCheck: 'echo',
        deadlineMs: 30_000,
      },
      () => 0, // no jitter: a refused agent dials again exactly Retry-After later
    );
    const outcome = await storm.done;
    await storm.close();
    expect(outcome.connected).toBe(10);
    expect(outcome.refused503).toBe(4);
    expect(outcome.attempts).toBe(14);
    expect(outcome.dialErrors).toEqual({ 'http-503': 4 });
    expect(outcome.retryAfterSeconds).toEqual({ min: 1, max: 1 });
    // Four agents waited out the Retry-After second before their second dial.
    expect(outcome.timeToConnectMs.filter((ms) => ms >= 1000)).toHaveLength(4);
    expect(outcome.fullFleetMs).toBe(Math.max(...outcome.timeToConnectMs));
    expect(storm.counters().connected).toBe(0);
  });

  it('gives up at the deadline when Retry-After lies beyond it', async () => {
    const url = await refusingEcho(1);
    const storm = runStorm(
      {
        url,
        agents: 3,
        dialConcurrency: 1,
        agentsPerSourceAddress: 5000,
        addressOffset: 0,
        replyCheck: 'echo',
        deadlineMs: 500,
      },
      () => 0,
    );
    const outcome = await storm.done;
    await storm.close();
    expect(outcome.connected).toBe(2);
    expect(outcome.fullFleetMs).toBeNull();
    expect(outcome.attempts).toBe(3);
  });
});
