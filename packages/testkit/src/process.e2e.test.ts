import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pidAlive } from './fixtures/probe.js';
import {
  freePort,
  freePortRange,
  freePorts,
  ProcessStartError,
  portsFree,
  startProcess,
  startProcesses,
  stopAllProcesses,
} from './process.js';

const node = (script: string) => ({ command: process.execPath, args: ['-e', script] });
const IDLE = 'setInterval(() => {}, 1000)';

describe('startProcess', () => {
  it('waits for a ready check on the output, then stops with SIGTERM', async () => {
    const proc = await startProcess({
      name: 'late talker',
      ...node(`setTimeout(() => console.log('listening'), 100); ${IDLE}`),
      ready: (p) => p.output().includes('listening'),
    });
    expect(proc.hasExited()).toBe(false);
    expect(await proc.stop()).toBe('SIGTERM');
    expect(await proc.stop()).toBe('SIGTERM'); // idempotent
    expect(proc.hasExited()).toBe(true);
  });

  it('waits until the ready URL answers 200', async () => {
    const port = await freePort();
    const server = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`;
    const proc = await startProcess({
      name: 'http',
      ...node(`setTimeout(() => { ${server} }, 200)`),
      readyUrl: `http://127.0.0.1:${port}/`,
    });
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    await proc.stop();
  });

  it('rejects with the output when the process exits before it is ready', async () => {
    const start = startProcess({
      name: 'quitter',
      ...node(`console.error('cannot bind'); process.exit(3)`),
      ready: () => false,
    });
    await expect(start).rejects.toThrow(ProcessStartError);
    await expect(start).rejects.toThrow(/quitter exited \(3\) before it was ready:\s+cannot bind/);
  });

  it.each([
    ['is not ready in time', () => false, /sleeper not ready at its ready check within 300 ms/],
    [
      'has a ready check that throws',
      () => {
        throw new Error('check failed');
      },
      /check failed/,
    ],
  ])('kills a process that %s', async (_, check: () => boolean, error) => {
    let pid = -1;
    const start = startProcess({
      name: 'sleeper',
      ...node(IDLE),
      ready: (p) => {
        pid = p.pid;
        return check();
      },
      readyTimeoutMs: 300,
    });
    await expect(start).rejects.toThrow(error);
    expect(pidAlive(pid)).toBe(false);
  });
});

describe('stopAllProcesses', () => {
  it('stops every process still running', async () => {
    const a = await startProcess({ name: 'a', ...node(IDLE) });
    const b = await startProcess({ name: 'b', ...node(IDLE) });
    await stopAllProcesses();
    expect([a.hasExited(), b.hasExited()]).toEqual([true, true]);
  });
});

describe('freePorts', () => {
  it('returns distinct bindable ports', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(10_000);
  });

  it('stays clear of the ports the kernel hands out to outgoing connections', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    for (const p of await freePorts(20)) expect(p).toBeLessThan(Number(low));
  });

  it('finds runs of consecutive free ports and sees one taken on a single address', async () => {
    const first = await freePortRange(3);
    expect(await portsFree(first, 3)).toBe(true);
    const held = createServer();
    await new Promise<void>((r) => held.listen(first + 1, '127.0.0.1', r));
    try {
      expect(await portsFree(first, 3)).toBe(false);
      expect(await portsFree(first, 1)).toBe(true);
    } finally {
      await new Promise((r) => held.close(r));
    }
  });
});

describe('startProcesses', () => {
  it('starts all in parallel', async () => {
    const procs = await startProcesses([
      { name: 'one', ...node(IDLE) },
      { name: 'two', ...node(IDLE) },
    ]);
    expect(procs.map((p) => p.name)).toEqual(['one', 'two']);
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('stops the ones that started when one fails, and rejects with that failure', async () => {
    let survivor = -1;
    const start = startProcesses([
      {
        name: 'good',
        ...node(`console.log('up'); ${IDLE}`),
        ready: (p) => {
          survivor = p.pid;
          return p.output().includes('up');
        },
      },
      { name: 'bad', ...node('process.exit(7)'), ready: () => false },
    ]);
    await expect(start).rejects.toThrow(/bad exited \(7\)/);
    expect(pidAlive(survivor)).toBe(false);
  });
});
