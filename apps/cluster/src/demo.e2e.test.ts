import { eventually, freePort, startProcess } from '@opamp-fleet/testkit';
import { expect, it } from 'vitest';

const main = new URL('../dist/main.js', import.meta.url).pathname;

it('runs gateways and a demo fleet whose agents all show up in presence, then stops cleanly on SIGINT', async () => {
  const port = await freePort();
  const metricsPort = await freePort();
  const demo = await startProcess({
    name: 'demo',
    command: process.execPath,
    args: [main, '--agents', '3', '--http-agents', '1', '--heartbeat', '1', '--port', String(port)].concat([
      '--metrics-port',
      String(metricsPort),
    ]),
  });
  try {
    await eventually(
      () => expect(demo.output()).toMatch(/agents seen within 3s: 4 {2}connections per gateway: \d+ \/ \d+/),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    const held = /connections per gateway: (\d+) \/ (\d+)/.exec(demo.output());
    expect(Number(held?.[1]) + Number(held?.[2])).toBe(3);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(metrics).toContain('opamp_gateway_connections');
  } finally {
    expect(await demo.stop('SIGINT', 20_000)).toBe(0);
  }
});
